package signin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

func constantEqual(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// safeMethod: requests that change nothing and need no CSRF check.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Require lets through only requests of a live session, with the user in
// the context (UserFrom). Without one, a page load (GET asking for HTML)
// is sent to sign in and comes back afterwards; any other request gets
// 401 JSON. A state-changing request must also come from this site
// (CrossOriginProtection) and carry the session's CSRF token, else 403.
func (s *Service) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signed, status, msg := s.check(r)
		if status == http.StatusUnauthorized && safeMethod(r.Method) && wantsHTML(r) {
			http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		if status != 0 {
			writeError(w, status, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), signed)))
	})
}

// Refusals, in both languages (the page and the API show them as they are).
const (
	msgSignIn    = "请先登录 / sign in first"
	msgExpired   = "登录已过期，请重新登录 / your session has expired, sign in again"
	msgCrossSite = "拒绝跨站请求 / cross-site request refused"
	msgCSRF      = "缺少或错误的 CSRF 令牌，请刷新页面 / missing or wrong CSRF token, reload the page"
	msgStore     = "暂时无法确认登录，请重试 / cannot check your session now, try again"
)

// check finds the session of r and, for a state-changing request, checks
// its origin and CSRF token. status 0: let it through.
func (s *Service) check(r *http.Request) (Signed, int, string) {
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return Signed{}, http.StatusUnauthorized, msgSignIn
	}
	hash := hashSecret(c.Value)
	sess, err := s.cfg.Store.SessionByHash(r.Context(), hash)
	if errors.Is(err, ErrNotFound) {
		return Signed{}, http.StatusUnauthorized, msgSignIn
	}
	if err != nil {
		s.log.Error("find session", "err", err)
		return Signed{}, http.StatusServiceUnavailable, msgStore
	}
	if !s.now().Before(sess.ExpiresAt) {
		if err := s.cfg.Store.DeleteSession(r.Context(), hash); err != nil {
			s.log.Warn("delete expired session", "err", err)
		}
		return Signed{}, http.StatusUnauthorized, msgExpired
	}
	signed := Signed{User: sess.User, CSRF: CSRFToken(c.Value), ExpiresAt: sess.ExpiresAt}
	if safeMethod(r.Method) {
		return signed, 0, ""
	}
	if err := s.cop.Check(r); err != nil {
		s.log.Warn("cross-origin request refused", "user", sess.User, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		return Signed{}, http.StatusForbidden, msgCrossSite
	}
	tok := r.Header.Get(CSRFHeader)
	if tok == "" && isForm(r) {
		tok = r.PostFormValue(CSRFField)
	}
	if tok == "" || !constantEqual(tok, signed.CSRF) {
		s.log.Warn("csrf token refused", "user", sess.User, "path", r.URL.Path, "present", tok != "")
		return Signed{}, http.StatusForbidden, msgCSRF
	}
	return signed, 0, ""
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// wantsHTML: a browser loading a page, not a script calling an API.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
