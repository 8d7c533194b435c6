package main

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/teams/graphdir"
	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// dirEvents applies the directory change events the adapters decode
// (Feishu contact events, WeCom change_contact, DingTalk org events) to
// the directory: only those of the app configured under directory.sync
// for that platform, under the directory lock, departures routed.
type dirEvents struct {
	s *dirsync.Syncer
	// keys maps "<platform>:<app>" (the adapter's platform and the app
	// id, corp id or app key) to the directory key of the accounts.
	keys map[string]string
	kick func()
}

var (
	_ feishu.Directory   = dirEvents{}
	_ wecom.Directory    = dirEvents{}
	_ dingtalk.Directory = dirEvents{}
)

// ApplyEvent applies ev from app; an app not synced is dirsync.ErrNotSynced.
func (d dirEvents) ApplyEvent(ctx context.Context, app string, ev dirsync.Event) error {
	key, ok := d.keys[ev.Platform+":"+app]
	if d.s == nil || !ok {
		return fmt.Errorf("%s app %s: %w", ev.Platform, app, dirsync.ErrNotSynced)
	}
	ev.Platform = key
	res, err := d.s.ApplyEvent(ctx, ev)
	if err != nil {
		return err
	}
	if len(res.Departed) > 0 && d.kick != nil {
		d.kick() // admins are told of the routed tasks: deliver now
	}
	return nil
}

// wireDirEvents builds the Syncer the adapters' change events and the
// scheduled sync share, when a platform is configured under
// directory.sync, and schedules the Graph delta poll.
func (a *app) wireDirEvents() error {
	c := a.cfg.Directory.Sync
	if len(c.sources()) == 0 {
		return nil
	}
	s, err := newSyncerWith(c, a.store, a.log, a.engine, a.lockDirectory)
	if err != nil {
		return err
	}
	keys := map[string]string{}
	if f := c.Feishu; f != nil {
		keys[feishu.Platform+":"+f.AppID] = cmp.Or(f.Platform, "feishu")
	}
	if d := c.DingTalk; d != nil {
		keys[dingtalk.Platform+":"+d.AppKey] = cmp.Or(d.Platform, "dingtalk")
	}
	if w := c.WeCom; w != nil {
		keys[wecom.Platform+":"+w.CorpID] = cmp.Or(w.Platform, "wecom")
	}
	a.dirEvents = dirEvents{s: s, keys: keys, kick: a.kick}
	if g := c.Graph; g != nil && g.Poll != "" {
		feed := graphdir.New(graphdir.Config{Platform: g.Platform, Tenant: g.Tenant, ClientID: g.ClientID, ClientSecret: g.ClientSecret, LoginURL: g.LoginURL, GraphURL: g.GraphURL})
		a.starters = append(a.starters, func(ctx context.Context) error {
			cr := cron.New(cron.WithParser(cronParser))
			if _, err := cr.AddFunc(g.Poll, func() { a.pollGraph(ctx, s, feed) }); err != nil {
				return fmt.Errorf("directory.sync.graph.poll: %w", err)
			}
			cr.Start()
			go func() {
				<-ctx.Done()
				<-cr.Stop().Done()
			}()
			return nil
		})
	}
	return nil
}

// pollGraph is one poll of the Graph users delta (each change applied
// under the directory lock by ApplyEvent); a failure is logged and the
// next poll resumes at the page that failed.
func (a *app) pollGraph(ctx context.Context, s *dirsync.Syncer, feed dirsync.Feed) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	res, err := s.Poll(ctx, feed)
	if err != nil {
		a.log.Error("graph delta poll failed; the next poll resumes where it stopped", "err", err)
		return
	}
	if len(res.Departed) > 0 {
		a.kick()
	}
}
