package feishutest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// FuzzMessageAPI posts arbitrary bodies to the fake's message endpoints:
// every answer is Feishu JSON with a code, never a 5xx.
func FuzzMessageAPI(f *testing.F) {
	s := feishutest.NewServer()
	f.Cleanup(s.Close)
	s.AddApp(feishutest.App{ID: "cli_f", Secret: "sec"})
	resp, err := http.Post(s.URL+"/open-apis/auth/v3/tenant_access_token/internal", "application/json", bytes.NewReader([]byte(`{"app_id":"cli_f","app_secret":"sec"}`)))
	if err != nil {
		f.Fatal(err)
	}
	var tok struct {
		Token string `json:"tenant_access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	f.Add([]byte(`{"receive_id":"ou_a","msg_type":"text","content":"{\"text\":\"hi\"}"}`), false)
	f.Add([]byte(`{"receive_id":"oc_a","msg_type":"interactive","content":"{\"schema\":\"2.0\",\"config\":{\"update_multi\":true},\"body\":{\"elements\":[{\"tag\":1}]}}"}`), false)
	f.Add([]byte(`{"token":"c-1","card":{}}`), true)
	f.Fuzz(func(t *testing.T, body []byte, cardUpdate bool) {
		url := s.URL + "/open-apis/im/v1/messages?receive_id_type=open_id"
		if cardUpdate {
			url = s.URL + "/open-apis/interactive/v1/card/update"
		}
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var a struct {
			Code *int `json:"code"`
		}
		if resp.StatusCode >= 500 || json.Unmarshal(raw, &a) != nil || a.Code == nil {
			t.Fatalf("status %d, body %q", resp.StatusCode, raw)
		}
	})
}
