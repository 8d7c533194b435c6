package feishu

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	larkcontact "github.com/larksuite/oapi-sdk-go/v3/service/contact/v3"

	"github.com/flowbot/flowbot/adapters/feishu/feishudir"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// onContactEvents registers the contact change events with p's
// dispatcher (both transports): each is decoded by feishudir.DecodeEvent
// from its raw payload and handed to the Directory; without a Directory
// they are acknowledged and ignored.
func (a *Adapter) onContactEvents(p *app) {
	if a.dir == nil {
		for _, typ := range feishudir.EventTypes {
			p.disp.OnCustomizedEvent(typ, func(context.Context, *larkevent.EventReq) error { return nil })
		}
		return
	}
	raw := func(r *larkevent.EventReq) []byte {
		if r == nil {
			return nil
		}
		return r.Body
	}
	p.disp.OnP2UserCreatedV3(func(ctx context.Context, ev *larkcontact.P2UserCreatedV3) error {
		return a.onContact(ctx, p, raw(ev.EventReq))
	})
	p.disp.OnP2UserUpdatedV3(func(ctx context.Context, ev *larkcontact.P2UserUpdatedV3) error {
		return a.onContact(ctx, p, raw(ev.EventReq))
	})
	p.disp.OnP2UserDeletedV3(func(ctx context.Context, ev *larkcontact.P2UserDeletedV3) error {
		return a.onContact(ctx, p, raw(ev.EventReq))
	})
	p.disp.OnP2DepartmentCreatedV3(func(ctx context.Context, ev *larkcontact.P2DepartmentCreatedV3) error {
		return a.onContact(ctx, p, raw(ev.EventReq))
	})
	p.disp.OnP2DepartmentUpdatedV3(func(ctx context.Context, ev *larkcontact.P2DepartmentUpdatedV3) error {
		return a.onContact(ctx, p, raw(ev.EventReq))
	})
	p.disp.OnP2DepartmentDeletedV3(func(ctx context.Context, ev *larkcontact.P2DepartmentDeletedV3) error {
		return a.onContact(ctx, p, raw(ev.EventReq))
	})
}

// onContact applies one contact change. A malformed event is refused
// (400) and reaches nothing; a directory failure is answered 500 so that
// Feishu redelivers (applying an event twice changes nothing).
func (a *Adapter) onContact(ctx context.Context, p *app, payload []byte) error {
	ev, err := feishudir.DecodeEvent(payload)
	if err != nil {
		a.log.Warn("contact event refused", "app", p.cfg.ID, "err", err)
		return refuse(http.StatusBadRequest, "malformed contact event")
	}
	ev.Platform = Platform
	ctx, cancel := context.WithTimeout(ctx, a.cfg.MessageTimeout)
	defer cancel()
	err = a.dir.ApplyEvent(ctx, p.cfg.ID, ev)
	switch {
	case errors.Is(err, dirsync.ErrNoBaseline), errors.Is(err, dirsync.ErrNotSynced):
		a.log.Warn("contact event ignored", "app", p.cfg.ID, "op", ev.Op, "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("%w: apply contact event: %w", errHandler, err)
	}
	return nil
}
