package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/flowbot/flowbot/dashboard"
)

// FuzzQuery sends arbitrary query strings: the page and the CSV answer
// 200 or 400, never fail or panic.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"lang=en", "weeks=3&flow=expense", "dept=sales", "weeks=%ff", "flow=expense&flow=leave", "a=b&&&=", "weeks=99999999999999999999"} {
		f.Add(s)
	}
	a := history(f, 40)
	srv := server(f, a)
	h := srv.Config.Handler.(*dashboard.Handler)
	f.Fuzz(func(t *testing.T, q string) {
		for _, p := range []string{"/?", "/csv?"} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.RawQuery = q
			r.URL.Path = p[:len(p)-1]
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
				t.Fatalf("%s%s: %d %s", p, q, w.Code, w.Body)
			}
		}
	})
}
