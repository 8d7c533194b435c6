package teams

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// emailCache remembers each user's email (or "" when Teams has none).
type emailCache struct {
	mu sync.Mutex
	m  map[string]string
}

// email is the sender's email or UPN, the fallback identity when the
// directory knows neither the AAD object id nor the Teams id: fetched once
// per user from the Connector (GET conversation member), within 1s; a
// failure leaves it empty and is fetched again next time.
func (a *Adapter) email(ctx context.Context, act *Activity) string {
	user := act.From.ID
	a.emails.mu.Lock()
	e, ok := a.emails.m[user]
	a.emails.mu.Unlock()
	if ok {
		return e
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var m struct {
		Email             string `json:"email"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	path := "/v3/conversations/" + url.PathEscape(act.Conversation.ID) + "/members/" + url.PathEscape(user)
	if err := a.call(ctx, "get member", http.MethodGet, act.ServiceURL, path, nil, &m); err != nil {
		a.log.Debug("get member email", "user", user, "err", err)
		return ""
	}
	e = m.Email
	if e == "" {
		e = m.UserPrincipalName
	}
	a.emails.mu.Lock()
	if len(a.emails.m) > 100000 {
		clear(a.emails.m)
	}
	a.emails.m[user] = e
	a.emails.mu.Unlock()
	return e
}
