package main

import (
	"context"
	"errors"

	"github.com/flowbot/flowbot/flows"
)

// Replaced when the Postgres and Redis stores land.
func openPostgres(ctx context.Context, url string) (flows.Store, error) {
	return nil, errors.New("postgres: not wired yet")
}

func openRedis(ctx context.Context, cfg RedisConfig) (kvStores, error) {
	return kvStores{}, errors.New("redis: not wired yet")
}
