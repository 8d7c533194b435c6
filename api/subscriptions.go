package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/webhooks"
)

var errNoSubscriptions = errf(CodeNotFound, "这个数据库不保存 webhook 订阅。", "This database does not keep webhook subscriptions.")

// subscriptionBody is the JSON of a subscription made or changed through
// the API.
type subscriptionBody struct {
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Flows  []string `json:"flows"`
	// FromStart: deliver the whole event log, not only what happens from
	// now on (create only).
	FromStart bool `json:"from_start"`
	// RotateSecret: make a new secret, shown in the answer (update only).
	RotateSecret bool `json:"rotate_secret"`
}

// subscriptionView is a subscription as listed; Secret only in the answer
// that made it.
type subscriptionView struct {
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Flows  []string `json:"flows"`
	Secret string   `json:"secret,omitempty"`
}

func viewOf(s webhooks.Subscription, secret bool) subscriptionView {
	v := subscriptionView{Name: s.Name, URL: s.URL, Events: orEmpty(s.Events), Flows: orEmpty(s.Flows)}
	if secret {
		v.Secret = s.Secret
	}
	return v
}

func (s *Server) subscriptionAdmin(c *caller) error {
	if s.cfg.Subscriptions == nil {
		return errNoSubscriptions
	}
	if c.user != nil {
		return flows.CanManage(c.user)
	}
	return nil
}

// checkSubscription refuses a subscription the dispatcher could not send
// or should not: bad name, URL, event type or flow id, private target.
func (s *Server) checkSubscription(sub webhooks.Subscription) error {
	if !webhooks.ValidName(sub.Name) {
		return errInvalid("name 须为 1 到 64 个字母、数字、_ . -。", "name must be 1 to 64 letters, digits, '_', '.' or '-'.")
	}
	if len(sub.URL) > 2000 || len(sub.Events) > 50 || len(sub.Flows) > 100 {
		return errInvalid("订阅太大。", "The subscription is too large.")
	}
	for _, f := range sub.Flows {
		if !idRe.MatchString(f) {
			return errInvalid("flows 中有无效的流程 id。", "flows holds an invalid flow id.")
		}
	}
	if err := sub.Validate(); err != nil {
		return errInvalid("订阅无效："+err.Error(), "Invalid subscription: "+err.Error())
	}
	if !s.cfg.WebhooksAllowPrivate && webhooks.PrivateTarget(sub.URL) {
		return errInvalid("url 指向内网、本机或链路本地地址，已拒绝（webhooks.allow_private）。",
			"url points to a private, loopback or link-local address: refused (webhooks.allow_private).")
	}
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.subscriptionAdmin(c); err != nil {
		return err
	}
	subs, err := s.cfg.Subscriptions.Subscriptions(r.Context())
	if err != nil {
		return err
	}
	out := make([]subscriptionView, 0, len(subs))
	for _, sub := range subs {
		out = append(out, viewOf(sub, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
	return nil
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.subscriptionAdmin(c); err != nil {
		return err
	}
	var b subscriptionBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if b.RotateSecret {
		return errInvalid("rotate_secret 只用于修改。", "rotate_secret is for updates only.")
	}
	sub := webhooks.Subscription{Name: b.Name, URL: b.URL, Events: b.Events, Flows: b.Flows, Secret: webhooks.NewSecret()}
	if err := s.checkSubscription(sub); err != nil {
		return err
	}
	err := s.cfg.Subscriptions.CreateSubscription(r.Context(), sub, b.FromStart)
	if errors.Is(err, webhooks.ErrExists) {
		return errf(CodeConflict, "已有同名订阅。", "A subscription of that name exists.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewOf(sub, true))
	return nil
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.subscriptionAdmin(c); err != nil {
		return err
	}
	name := r.PathValue("name")
	if !webhooks.ValidName(name) {
		return errInvalid("路径中的订阅名无效。", "The subscription name in the path is not valid.")
	}
	var b subscriptionBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if b.FromStart || (b.Name != "" && b.Name != name) {
		return errInvalid("修改不能改名，也不能从头投递。", "An update cannot rename nor restart from the beginning.")
	}
	subs, err := s.cfg.Subscriptions.Subscriptions(r.Context())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(subs, func(x webhooks.Subscription) bool { return x.Name == name })
	if i < 0 {
		return errf(CodeNotFound, "没有这个订阅。", "No such subscription.")
	}
	sub := subs[i]
	if b.URL != "" {
		sub.URL = b.URL
	}
	if b.Events != nil {
		sub.Events = b.Events
	}
	if b.Flows != nil {
		sub.Flows = b.Flows
	}
	if b.RotateSecret {
		sub.Secret = webhooks.NewSecret()
	}
	if err := s.checkSubscription(sub); err != nil {
		return err
	}
	up := sub
	if !b.RotateSecret {
		up.Secret = "" // keep the stored one
	}
	err = s.cfg.Subscriptions.UpdateSubscription(r.Context(), up)
	if errors.Is(err, webhooks.ErrNoSubscription) {
		return errf(CodeNotFound, "没有这个订阅。", "No such subscription.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(sub, b.RotateSecret))
	return nil
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.subscriptionAdmin(c); err != nil {
		return err
	}
	name := r.PathValue("name")
	if !webhooks.ValidName(name) {
		return errInvalid("路径中的订阅名无效。", "The subscription name in the path is not valid.")
	}
	err := s.cfg.Subscriptions.DeleteSubscription(r.Context(), name)
	if errors.Is(err, webhooks.ErrNoSubscription) {
		return errf(CodeNotFound, "没有这个订阅。", "No such subscription.")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
