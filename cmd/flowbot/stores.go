package main

import (
	"context"
	"fmt"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/postgres"
	"github.com/flowbot/flowbot/store/redis"
)

func openPostgres(ctx context.Context, url string) (flows.Store, error) {
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

// openRedis connects the chat layer's state, dedupe and locks to Redis.
// A Redis that is down at start is not fatal: the process serves what needs
// no conversation state, /readyz reports it, and work resumes when it is back.
func openRedis(ctx context.Context, cfg RedisConfig) (kvStores, error) {
	st, err := redis.Open(redis.Config{
		Addrs: cfg.Addrs, MasterName: cfg.MasterName, Username: cfg.Username, Password: cfg.Password,
		DB: cfg.DB, TLS: cfg.TLS, Prefix: cfg.Prefix,
	})
	if err != nil {
		return kvStores{}, fmt.Errorf("open redis: %w", err)
	}
	return kvStores{state: st, dedupe: st, locker: st, ping: st.Ping, close: st.Close}, nil
}
