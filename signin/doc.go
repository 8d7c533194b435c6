// Package signin owns web sign-in outside demo mode: the OpenID Connect
// login (authorization code with PKCE, state and nonce, the ID token
// checked by github.com/coreos/go-oidc/v3 for signature, issuer, audience
// and expiry), the server-side sessions behind an HttpOnly, Secure,
// SameSite=Lax cookie, sign-out, and the middleware that puts the signed-in
// user in the request's context and refuses cross-site or token-less
// state-changing requests (CSRF).
//
// It declares the Store of sessions (implemented by store/sqlite and
// store/postgres, checked by signintest.Run) and the Matcher that maps a
// verified identity to a directory user (wired by cmd/flowbot). It imports
// nothing of this repository: rights stay in flows, the pages it protects
// (playground, dashboard) know only the user id it hands them.
//
// CSRF: every state-changing request (not GET, HEAD, OPTIONS) behind
// Require must pass both net/http's CrossOriginProtection (Sec-Fetch-Site
// and Origin checked against the Host) and carry the session's CSRF token
// in the X-CSRF-Token header or the csrf_token form field. The first
// stops cross-site requests from every current browser without any page
// work; the token also covers browsers and proxies that send neither
// header, and a same-site sibling host that the origin check would trust.
// The token is derived from the session secret (HMAC), so it needs no
// storage, differs per session and dies with it.
package signin
