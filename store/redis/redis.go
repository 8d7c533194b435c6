package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/flowbot/flowbot/bots"
)

// ErrUnavailable is wrapped by every error caused by Redis not answering
// (refused or dropped connection, timeout, server loading or read-only).
var ErrUnavailable = errors.New("redis: unavailable")

// Store implements bots.StateStore, bots.Deduper and bots.Locker on Redis.
// It is safe for concurrent use.
type Store struct {
	client goredis.UniversalClient
	prefix string
	owned  bool  // Close closes client
	owner  Owner // tags event holds (holds.go)
}

var (
	_ bots.StateStore = (*Store)(nil)
	_ bots.Deduper    = (*Store)(nil)
	_ bots.Locker     = (*Store)(nil)
)

// New returns a Store using client, with every key starting with prefix.
// Closing the client stays the caller's job.
func New(client goredis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

// Close closes the client if Open created it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// Ping checks that Redis answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

// Get returns the value of key; ok is false when absent or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if key == "" {
		return nil, false, errors.New("redis: get state: empty key")
	}
	val, err := s.client.Get(ctx, s.prefix+"state:"+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap(ctx, fmt.Sprintf("get state %q", key), err)
	}
	if val == nil {
		val = []byte{}
	}
	return val, true, nil
}

// Set stores val under key for ttl (> 0).
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := check("set state", key, ttl); err != nil {
		return err
	}
	if val == nil {
		val = []byte{}
	}
	if err := s.client.Set(ctx, s.prefix+"state:"+key, val, roundTTL(ttl)).Err(); err != nil {
		return wrap(ctx, fmt.Sprintf("set state %q", key), err)
	}
	return nil
}

// swapState sets KEYS[1] to ARGV[3] for ARGV[4] ms if it holds ARGV[2]
// (ARGV[1] "1"), or if it is absent (ARGV[1] "0").
var swapState = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1`)

// Swap stores val under key for ttl (> 0) if key holds old (nil: if it
// is absent), in one script.
func (s *Store) Swap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	if err := check("swap state", key, ttl); err != nil {
		return false, err
	}
	had := "1"
	if old == nil {
		had, old = "0", []byte{}
	}
	if val == nil {
		val = []byte{}
	}
	n, err := swapState.Run(ctx, s.client, []string{s.prefix + "state:" + key}, had, old, val, roundTTL(ttl).Milliseconds()).Int()
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("swap state %q", key), err)
	}
	return n == 1, nil
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("redis: delete state: empty key")
	}
	if err := s.client.Del(ctx, s.prefix+"state:"+key).Err(); err != nil {
		return wrap(ctx, fmt.Sprintf("delete state %q", key), err)
	}
	return nil
}

// FirstSeen records key for ttl (SET NX PX) and reports whether it was not
// already recorded.
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := check("dedupe", key, ttl); err != nil {
		return false, err
	}
	if s.holdTagged(ttl) {
		return s.hold(ctx, key, ttl)
	}
	first, err := s.client.SetNX(ctx, s.prefix+"dedupe:"+key, "1", roundTTL(ttl)).Result()
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("dedupe %q", key), err)
	}
	return first, nil
}

// Confirm keeps key seen for ttl from now (bots.DedupeConfirmer: after the
// event was handled).
func (s *Store) Confirm(ctx context.Context, key string, ttl time.Duration) error {
	if err := check("dedupe", key, ttl); err != nil {
		return err
	}
	_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error { // two keys, maybe two cluster slots: no MULTI
		p.Set(ctx, s.prefix+"dedupe:"+key, "1", roundTTL(ttl))
		p.Set(ctx, s.prefix+"dedupe-done:"+key, "1", roundTTL(ttl))
		if s.owner.Instance != "" {
			p.ZRem(ctx, s.holdsKey(), key)
		}
		return nil
	})
	if err != nil {
		return wrap(ctx, fmt.Sprintf("confirm %q", key), err)
	}
	return nil
}

// Done reports whether key was confirmed (and has not expired).
func (s *Store) Done(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("dedupe done: empty key")
	}
	n, err := s.client.Exists(ctx, s.prefix+"dedupe-done:"+key).Result()
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("dedupe done %q", key), err)
	}
	return n > 0, nil
}

// Renew keeps the processing hold of key for ttl from now, if it is
// still held and not done, never shortening it (bots.DedupeRenewer). The
// hold and its done mark may live in two cluster slots, so this is two
// commands: a Confirm between them leaves the hold at least as long as
// Confirm set it (PEXPIRE GT never shortens).
func (s *Store) Renew(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := check("renew dedupe hold", key, ttl); err != nil {
		return false, err
	}
	done, err := s.client.Exists(ctx, s.prefix+"dedupe-done:"+key).Result()
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("renew dedupe hold %q", key), err)
	}
	if done > 0 {
		return false, nil
	}
	k := s.prefix + "dedupe:" + key
	set, err := s.client.Do(ctx, "PEXPIRE", k, roundTTL(ttl).Milliseconds(), "GT").Int()
	ok := set == 1
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("renew dedupe hold %q", key), err)
	}
	if ok && s.owner.Instance != "" {
		s.indexHold(ctx, key, ttl)
	}
	if !ok {
		// Not set: the key is gone, or already holds longer (a renewal
		// racing this one): held only if it still exists.
		n, err := s.client.Exists(ctx, k).Result()
		if err != nil {
			return false, wrap(ctx, fmt.Sprintf("renew dedupe hold %q", key), err)
		}
		return n > 0, nil
	}
	return true, nil
}

// Forget removes a dedupe key, so that an event whose handling failed is
// handled again when the platform redelivers it (bots.DedupeForgetter).
func (s *Store) Forget(ctx context.Context, key string) error {
	if key == "" {
		return fmt.Errorf("forget dedupe key: empty key")
	}
	if err := s.client.Del(ctx, s.prefix+"dedupe:"+key, s.prefix+"dedupe-done:"+key).Err(); err != nil {
		return wrap(ctx, fmt.Sprintf("forget %q", key), err)
	}
	if s.owner.Instance != "" {
		s.client.ZRem(ctx, s.holdsKey(), key) // best effort: the index is pruned by time too
	}
	return nil
}

// renewScript extends the lease KEYS[1] to ARGV[2] ms if ARGV[1] holds it.
var renewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// unlockScript deletes the lease KEYS[1] if ARGV[1] holds it.
var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)

// TryLock takes lock name for owner for ttl (SET NX PX), or renews it when
// owner already holds it, and reports whether owner holds it now.
func (s *Store) TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := check("lock", name, ttl); err != nil {
		return false, err
	}
	if owner == "" {
		return false, fmt.Errorf("redis: lock %q: empty owner", name)
	}
	key := s.prefix + "lock:" + name
	took, err := s.client.SetNX(ctx, key, owner, roundTTL(ttl)).Result()
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("lock %q for %s", name, owner), err)
	}
	if took {
		return true, nil
	}
	n, err := renewScript.Run(ctx, s.client, []string{key}, owner, roundTTL(ttl).Milliseconds()).Int()
	if err != nil {
		return false, wrap(ctx, fmt.Sprintf("renew lock %q for %s", name, owner), err)
	}
	return n == 1, nil
}

// Unlock releases lock name if owner holds it; otherwise it does nothing.
func (s *Store) Unlock(ctx context.Context, name, owner string) error {
	if name == "" {
		return errors.New("redis: unlock: empty name")
	}
	if owner == "" {
		return fmt.Errorf("redis: unlock %q: empty owner", name)
	}
	if err := unlockScript.Run(ctx, s.client, []string{s.prefix + "lock:" + name}, owner).Err(); err != nil {
		return wrap(ctx, fmt.Sprintf("unlock %q for %s", name, owner), err)
	}
	return nil
}

func check(op, key string, ttl time.Duration) error {
	if key == "" {
		return fmt.Errorf("redis: %s: empty key", op)
	}
	if ttl <= 0 {
		return fmt.Errorf("redis: %s %q: ttl must be positive, got %s", op, key, ttl)
	}
	return nil
}

// roundTTL rounds ttl up to whole milliseconds, the precision of PX.
func roundTTL(ttl time.Duration) time.Duration {
	return (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
}

// wrap adds what was being done to err, and ErrUnavailable when err says
// Redis could not be reached (not a reply error, not the caller's own
// cancelled context).
func wrap(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	if isReplyError(err) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return fmt.Errorf("redis: %s: %w: %w", op, ErrUnavailable, err)
}

// isReplyError reports whether Redis answered with an error that is about
// the command, not about the server being unable to serve.
func isReplyError(err error) bool {
	var rerr goredis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	return !goredis.IsLoadingError(err) && !goredis.IsReadOnlyError(err) &&
		!goredis.IsClusterDownError(err) && !goredis.IsTryAgainError(err) &&
		!goredis.IsMasterDownError(err)
}
