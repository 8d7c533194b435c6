// Package signedlink owns the tokens of flowbot's signed links: a small
// JSON grant, base64url-encoded, with an HMAC-SHA256 of it under a secret
// and a domain that names the kind of link, so a token of one kind (an
// attachment) is never accepted as another (a report), even under the
// same secret. What a grant holds and when it expires is the caller's.
package signedlink
