package wecom

import (
	"context"
	"errors"
	"net/http"

	"github.com/flowbot/flowbot/adapters/wecom/wecomdir"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// onContact applies one change_contact callback. Changes that are not
// about members or departments (tags, batch jobs) are acknowledged; a
// malformed one is refused (400) and changes nothing; a directory failure
// is answered 500 so that WeCom retries (applying a change twice changes
// nothing).
func (a *Adapter) onContact(ctx context.Context, p *app, cb callback) (int, string) {
	ev, err := wecomdir.DecodeChangeContact(cb.raw)
	if errors.Is(err, wecomdir.ErrNotContactChange) {
		a.metrics.Callback(p.cfg.Name, "ignored")
		return http.StatusOK, ""
	}
	if err != nil {
		a.log.Warn("change_contact refused", "app", p.cfg.Name, "err", err)
		a.metrics.Callback(p.cfg.Name, "refused")
		return http.StatusBadRequest, "malformed change_contact"
	}
	ev.Platform = Platform
	hctx, cancel := context.WithTimeout(ctx, a.cfg.HandleTimeout)
	defer cancel()
	err = a.dir.ApplyEvent(hctx, p.cfg.CorpID, ev)
	switch {
	case errors.Is(err, dirsync.ErrNoBaseline), errors.Is(err, dirsync.ErrNotSynced):
		a.log.Warn("change_contact ignored", "app", p.cfg.Name, "op", ev.Op, "err", err)
		a.metrics.Callback(p.cfg.Name, "ignored")
		return http.StatusOK, ""
	case err != nil:
		a.log.Error("apply change_contact", "app", p.cfg.Name, "op", ev.Op, "err", err)
		a.metrics.Callback(p.cfg.Name, "error")
		return http.StatusInternalServerError, "internal error, retry later"
	}
	a.metrics.Callback(p.cfg.Name, "ok")
	return http.StatusOK, ""
}
