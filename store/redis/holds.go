package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Owner names the process whose handlers hold event ids: Instance is the
// same at every start of one replica (config server.instance), Run is new
// at every start. Two replicas running at once must have different
// instances.
type Owner struct {
	Instance string
	Run      string
	// MaxHold: a FirstSeen with a ttl at most this is the hold of an event
	// being handled (bots.Config.ProcessingTTL): it is tagged with the
	// owner and indexed under the instance, so that ReleaseDeadHolds of a
	// later run can release it. Longer ones are records (the scheduler's
	// "already sent" marks) that no restart releases.
	MaxHold time.Duration
}

func (o Owner) validate() error {
	switch {
	case o == Owner{}:
		return nil
	case o.Instance == "" || o.Run == "":
		return errors.New("instance and run are both required")
	case strings.Contains(o.Instance, "\n") || strings.Contains(o.Run, "\n"):
		return errors.New("instance and run may not contain a line break")
	case o.MaxHold <= 0:
		return fmt.Errorf("max hold must be positive, got %s", o.MaxHold)
	}
	return nil
}

// WithOwner returns a Store on the same client whose event holds are
// tagged with o (see Owner). It does not own the client.
func (s *Store) WithOwner(o Owner) (*Store, error) {
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("redis: owner: %w", err)
	}
	return &Store{client: s.client, prefix: s.prefix, owner: o}, nil
}

// holdTagged reports whether a FirstSeen for ttl is an event hold to tag.
func (s *Store) holdTagged(ttl time.Duration) bool {
	return s.owner.Instance != "" && ttl <= s.owner.MaxHold
}

func (s *Store) holdsKey() string { return s.prefix + "holds:" + s.owner.Instance }

func (s *Store) tag() string { return s.owner.Instance + "\n" + s.owner.Run }

// hold is FirstSeen of an event hold: SET NX with the owner's tag as
// value, and the key indexed under the instance by when the hold ends
// (expired entries are pruned on the way). One round trip; the hold and
// the index may live in two cluster slots, so no MULTI: an index write
// that fails leaves a hold that only its expiry ends, as before owners.
func (s *Store) hold(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	now := time.Now()
	var set *goredis.BoolCmd
	_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		set = p.SetNX(ctx, s.prefix+"dedupe:"+key, s.tag(), roundTTL(ttl))
		p.ZAdd(ctx, s.holdsKey(), goredis.Z{Score: float64(now.Add(roundTTL(ttl)).UnixMilli()), Member: key})
		p.ZRemRangeByScore(ctx, s.holdsKey(), "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10))
		return nil
	})
	if set == nil || set.Err() != nil {
		if set != nil {
			err = set.Err()
		}
		return false, wrap(ctx, fmt.Sprintf("dedupe %q", key), err)
	}
	return set.Val(), nil
}

// indexHold moves the indexed end of a renewed hold (never earlier).
// Best effort: a stale end only means the next run may not find it.
func (s *Store) indexHold(ctx context.Context, key string, ttl time.Duration) {
	s.client.ZAddArgs(ctx, s.holdsKey(), goredis.ZAddArgs{XX: true, GT: true,
		Members: []goredis.Z{{Score: float64(time.Now().Add(roundTTL(ttl)).UnixMilli()), Member: key}}})
}

// releaseScript deletes the hold KEYS[1] if an earlier run of this
// instance has it: its value starts with ARGV[2] (the instance) and is not
// ARGV[1] (this run). A finished event ("1"), another instance's hold
// and this run's own are left.
var releaseScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] and string.sub(v, 1, #ARGV[2]) == ARGV[2] then
	return redis.call('DEL', KEYS[1])
end
return 0`)

// ReleaseDeadHolds releases, at the start of a run, the event holds an
// earlier run of this instance left (it was killed while handling those
// events): their redeliveries are handled at once instead of being
// answered "retry later" until the holds expire. Holds of other instances
// wait for their expiry. It reports how many it released.
func (s *Store) ReleaseDeadHolds(ctx context.Context) (int, error) {
	if s.owner.Instance == "" {
		return 0, errors.New("redis: release dead holds: no owner (Config.Owner)")
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	keys, err := s.client.ZRangeByScore(ctx, s.holdsKey(), &goredis.ZRangeBy{Min: now, Max: "+inf"}).Result()
	if err != nil {
		return 0, wrap(ctx, "release dead holds: list", err)
	}
	released := 0
	for _, k := range keys {
		n, err := releaseScript.Run(ctx, s.client, []string{s.prefix + "dedupe:" + k}, s.tag(), s.owner.Instance+"\n").Int()
		if err != nil {
			return released, wrap(ctx, fmt.Sprintf("release dead hold %q", k), err)
		}
		released += n
	}
	if err := s.client.ZRemRangeByScore(ctx, s.holdsKey(), "-inf", "("+now).Err(); err != nil {
		return released, wrap(ctx, "release dead holds: prune", err)
	}
	return released, nil
}
