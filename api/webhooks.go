package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/webhooks"
)

// Webhooks is what the admin webhook endpoints need of the webhook store.
type Webhooks interface {
	Deliveries(ctx context.Context, f webhooks.DeliveryFilter) ([]*webhooks.Delivery, error)
	Replay(ctx context.Context, id int64, now time.Time) error
}

var errNoWebhooks = errf(CodeNotFound, "没有配置外发 webhook。", "No outgoing webhooks are configured.")

// webhookDeliveries lists deliveries, newest first, filtered by
// subscription, request and status.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.webhookAdmin(c); err != nil {
		return err
	}
	f := webhooks.DeliveryFilter{Limit: 100}
	for k, vs := range r.URL.Query() {
		if len(vs) != 1 {
			return errInvalid("参数 "+k+" 只能给一次。", "Parameter "+k+" may be given once.")
		}
		v := vs[0]
		switch k {
		case "subscription":
			if !idRe.MatchString(v) {
				return errInvalid("subscription 须为订阅名。", "subscription must be a subscription name.")
			}
			f.Subscription = v
		case "request":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return errInvalid("request 须为申请 id（正整数）。", "request must be a request id (a positive integer).")
			}
			f.InstanceID = n
		case "status":
			st := webhooks.Status(v)
			if st != webhooks.StatusPending && st != webhooks.StatusDelivered && st != webhooks.StatusFailed {
				return errInvalid("status 只能是 pending、delivered 或 failed。", "status must be pending, delivered or failed.")
			}
			f.Status = st
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return errInvalid("limit 须为 1 到 1000 的整数。", "limit must be an integer from 1 to 1000.")
			}
			f.Limit = n
		default:
			return errInvalid("未知参数 "+k+"。", "Unknown parameter "+k+".")
		}
	}
	ds, err := s.cfg.Webhooks.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": orEmpty(ds)})
	return nil
}

// replayWebhook makes a delivery pending again: it is sent at the
// dispatcher's next pass with its original id, so receivers that already
// have it recognise it.
func (s *Server) replayWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.webhookAdmin(c); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	err = s.cfg.Webhooks.Replay(r.Context(), id, s.cfg.Engine.Now())
	if errors.Is(err, webhooks.ErrNotFound) {
		return errf(CodeNotFound, "没有这条 webhook 投递。", "No such webhook delivery.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": webhooks.StatusPending})
	return nil
}

// webhookAdmin: webhooks must be on, and a user token's user must be an
// admin (the admin scope was checked already).
func (s *Server) webhookAdmin(c *caller) error {
	if s.cfg.Webhooks == nil {
		return errNoWebhooks
	}
	if c.user != nil {
		return flows.CanManage(c.user)
	}
	return nil
}
