package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/postgres"
	"github.com/flowbot/flowbot/store/redis"
)

func openPostgres(ctx context.Context, url string, o owner, log *slog.Logger) (flows.Store, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("config: database.postgres: %w", err)
	}
	db, err := postgres.OpenConfig(ctx, pc, log, postgres.WithOwner(postgres.Owner{Instance: o.instance, Run: o.run}))
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

// openRedis connects the chat layer's state, dedupe and locks to Redis.
// A Redis that is down at start is not fatal: the process serves what needs
// no conversation state, /readyz reports it, and work resumes when it is back.
func openRedis(ctx context.Context, cfg RedisConfig, o owner, hold time.Duration) (kvStores, error) {
	st, err := redis.Open(redis.Config{
		Addrs: cfg.Addrs, MasterName: cfg.MasterName, Username: cfg.Username, Password: cfg.Password,
		DB: cfg.DB, TLS: cfg.TLS, Prefix: cfg.Prefix,
		DialTimeout: cfg.DialTimeout, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout,
		Owner: redis.Owner{Instance: o.instance, Run: o.run, MaxHold: hold},
	})
	if err != nil {
		return kvStores{}, fmt.Errorf("open redis: %w", err)
	}
	return kvStores{state: st, dedupe: st, events: st, locker: st, ping: st.Ping, close: st.Close}, nil
}
