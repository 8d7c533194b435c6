package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

// FuzzReportLink sends arbitrary tokens, months, flows and languages to
// the report page and its chart, signed-in and through a link: each
// answer is a page or a clear refusal, never an internal error or a
// panic; a token that verifies grants only what it says.
func FuzzReportLink(f *testing.F) {
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, workcal.Default().Location)
	env := reportServer(f, historyEvery(f, 30, 9*time.Hour, reportFrom), nil)
	good := env.signer.Token("expense", nov, "sunli", "")
	payload, sig, _ := strings.Cut(good, ".")
	for _, s := range [][4]string{
		{good, "", "", "en"}, {payload + "." + sig + "x", "", "", ""}, {"..", "2026-11", "expense", "zh"}, {"", "2026-13", "expense", "en"},
		{"", "9999-99", "../x", "fr"}, {payload, "2026-1", "leave", ""}, {"%zz", "２０２６-11", "expense", "en"}, {sig + "." + payload, "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	h := env.srv.Config.Handler.(*dashboard.Handler)
	pub := env.public.Config.Handler
	f.Fuzz(func(t *testing.T, tok, month, flow, lang string) {
		v := url.Values{"month": {month}, "flow": {flow}, "lang": {lang}}
		if tok != "" {
			v.Set("t", tok)
		}
		for _, path := range []string{"/report", "/report/chart.png"} {
			for _, hh := range []http.Handler{h, pub} {
				r := httptest.NewRequest(http.MethodGet, path+"?"+v.Encode(), nil)
				w := httptest.NewRecorder()
				hh.ServeHTTP(w, r)
				switch w.Code {
				case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
				default:
					t.Fatalf("%s?%s: %d %s", path, v.Encode(), w.Code, w.Body)
				}
			}
		}
		if g, err := env.signer.Verify(tok); err == nil && tok != good {
			// Only the signer makes tokens: a different token that
			// verifies must carry the same grant.
			if g.Flow != "expense" || g.Month != "2026-11" || g.Viewer != "sunli" {
				t.Fatalf("forged token verified: %+v", g)
			}
		}
		if m, err := flowstats.ParseMonth(month, time.UTC); err == nil && m.Format("2006-01") != month {
			t.Fatalf("ParseMonth(%q) = %s", month, m.Format("2006-01"))
		}
	})
}
