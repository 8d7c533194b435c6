package main

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/flows"
)

// adminAPI serves read-only operator endpoints under /api/v1/admin/,
// guarded by the bearer token api.admin_token. Without a token they are
// off (404): nothing here is ever open by default.
func (a *app) adminAPI() {
	token := a.cfg.API.AdminToken
	if token == "" {
		return
	}
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="flowbot"`)
				writeJSONError(w, http.StatusUnauthorized, "missing or wrong bearer token")
				return
			}
			h(w, r)
		}
	}
	// Outbox messages by status: failed deliveries are what admins watch.
	a.mux.HandleFunc("GET /api/v1/admin/outbox", auth(func(w http.ResponseWriter, r *http.Request) {
		status := flows.OutboxStatus(r.URL.Query().Get("status"))
		if status == "" {
			status = flows.OutboxFailed
		}
		if status != flows.OutboxFailed && status != flows.OutboxPending && status != flows.OutboxDelivered {
			writeJSONError(w, http.StatusBadRequest, "status must be failed, pending or delivered")
			return
		}
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit <= 0 || limit > 1000 {
			limit = 100
		}
		msgs, err := a.store.Outbox(r.Context(), status, limit)
		if err != nil {
			a.log.Error("list outbox", "err", err)
			writeJSONError(w, http.StatusServiceUnavailable, "database unavailable, try again")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": status, "messages": msgs})
	}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
