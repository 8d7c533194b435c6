package flowstats

// keepEnded is how many of the last ended requests the aggregate
// remembers the cell of (flow, version, applicant's department at filing)
// for their rating.
const keepEnded = 1 << 16

// bitPage is how many request ids one page of the unrated set covers.
const bitPage = 1 << 15

// ended remembers the requests that ended (approved, rejected or failed)
// and are not rated yet, so that a rating counts once, under the
// request's cell, in bounded memory: one bit per request id for "ended,
// not rated", and the cell of the last keepEnded only. A request rated
// after more than keepEnded others ended counts under its flow's latest
// version and its applicant's department at the time of the rating.
type ended struct {
	limit  int
	recent map[int64]uint32 // request id -> index in keys
	ring   []int64          // the ids in recent, in the order they ended
	next   int              // where the ring is written next once full
	keys   []Key            // interned (flow, version, dept)
	keyIdx map[Key]uint32
	// unrated has a bit per request id that ended and is not rated yet.
	unrated map[int64]*[bitPage / 64]uint64
}

func newEnded(limit int) *ended {
	return &ended{limit: limit, recent: map[int64]uint32{}, keyIdx: map[Key]uint32{}, unrated: map[int64]*[bitPage / 64]uint64{}}
}

// add records that request id ended, counted under k.
func (e *ended) add(id int64, k Key) {
	if id < 0 {
		return
	}
	ki, ok := e.keyIdx[k]
	if !ok {
		ki = uint32(len(e.keys))
		e.keys = append(e.keys, k)
		e.keyIdx[k] = ki
	}
	if _, ok := e.recent[id]; !ok {
		if len(e.ring) < e.limit {
			e.ring = append(e.ring, id)
		} else {
			delete(e.recent, e.ring[e.next])
			e.ring[e.next] = id
			e.next = (e.next + 1) % e.limit
		}
	}
	e.recent[id] = ki
	p := e.unrated[id/bitPage]
	if p == nil {
		p = new([bitPage / 64]uint64)
		e.unrated[id/bitPage] = p
	}
	b := id % bitPage
	p[b/64] |= 1 << (b % 64)
}

// rate takes request id out of the unrated set: it returns the cell it
// ended in (known when among the last ended), whether it was known, and
// whether it had ended unrated at all.
func (e *ended) rate(id int64) (k Key, known, ok bool) {
	if id < 0 {
		return Key{}, false, false
	}
	p := e.unrated[id/bitPage]
	b := id % bitPage
	if p == nil || p[b/64]&(1<<(b%64)) == 0 {
		return Key{}, false, false
	}
	p[b/64] &^= 1 << (b % 64)
	ki, known := e.recent[id]
	if known {
		k = e.keys[ki]
		delete(e.recent, id) // its ring slot is reused in turn
	}
	return k, known, true
}
