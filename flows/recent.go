package flows

import (
	"slices"
	"sync"
)

// recentInstances bounds the instances whose last written state an engine
// keeps for its next decision on them (recent).
const recentInstances = 4096

// maxRecentEvents bounds the events kept with one request's state: the
// views of a request with more are read.
const maxRecentEvents = 256

// recent is the state (instance and tasks) that this engine's operations
// committed last, for the most recent recentInstances instances. A
// decision starts from it instead of reading the instance before its
// write transaction (preloadTask). What it holds can be older than the
// store (another process, an operation that committed in between and
// has not been recorded yet): like a read made before the write, it is
// only trusted under the revision check of runPre, so an older state
// costs a retry, never a wrong decision. A state is replaced only by one
// of a higher revision, so the order in which operations record their
// outcomes does not matter.
//
// With a store that runs a function after each commit, before any later
// write (AfterCommitter: SQLite, which this process alone writes), the
// states are recorded in commit order as they are committed, together
// with the request's events when all of them are known: those of an
// instance created by the operation, or those of the state the operation
// started from followed by its own. Such a state is what the store holds
// until the next operation on the request records its own, before any
// later write and before the messages that operation wrote reach the
// notifier; so views are served from it (Engine.View). A view in the
// moment between a commit and its record shows the state just before, as
// a view begun a moment earlier would. Any other instance an operation
// wrote is forgotten, and so is everything when another process writes
// to the store (Engine.ForgetRecent).
type recent struct {
	mu     sync.Mutex
	gen    uint64 // operations recorded (committed)
	byInst map[int64]*recentState
	byTask map[int64]int64 // task id -> instance id
	ring   []int64         // instance ids in the order they came in
	next   int             // the ring's slot the next new instance takes
}

type recentState struct {
	in       Instance
	tasks    []Task
	events   []Event
	complete bool // events holds all of the request's events: views may be served
}

func newRecent(n int) *recent {
	return &recent{byInst: make(map[int64]*recentState, n), byTask: make(map[int64]int64, 2*n), ring: make([]int64, n)}
}

func newState(in *Instance, ts []*Task) *recentState {
	s := &recentState{in: *in, tasks: make([]Task, len(ts))}
	for i, t := range ts {
		s.tasks[i] = *t
	}
	return s
}

// put records in and its tasks ts as committed, unless a state of the
// same or a higher revision is recorded already. Their events are not
// known: the state serves decisions, not views.
func (r *recent) put(in *Instance, ts []*Task) {
	if r == nil || in == nil || in.ID == 0 {
		return
	}
	s := newState(in, ts)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byInst[in.ID]; ok && old.in.Rev >= in.Rev {
		return
	}
	r.store(s)
}

// committed records, as its transaction commits (AfterCommitter), what an
// operation wrote: in and its tasks ts, and evs, the events it appended;
// wrote lists the instances it wrote and from is the revision it first
// read in at (0: it created in). Every other instance it wrote is
// forgotten, and so is in when it changed without a new revision.
func (r *recent) committed(in *Instance, ts []*Task, evs []*Event, wrote []int64, from int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	for _, id := range wrote {
		if in == nil || id != in.ID {
			r.forget(id)
		}
	}
	if in == nil || in.ID == 0 || !slices.Contains(wrote, in.ID) {
		return
	}
	old := r.byInst[in.ID]
	if in.Rev <= from || (old != nil && old.in.Rev >= in.Rev) {
		r.forget(in.ID)
		return
	}
	s := newState(in, ts)
	if from == 0 || (old != nil && old.complete && old.in.Rev == from) {
		s.complete = true
		if old != nil && from != 0 {
			s.events = slices.Clone(old.events)
		}
		for _, e := range evs {
			if e.InstanceID == in.ID {
				s.events = append(s.events, *e)
			}
		}
		if len(s.events) > maxRecentEvents {
			s.events, s.complete = nil, false
		}
	}
	r.store(s)
}

// generation is the count of recorded operations, for read.
func (r *recent) generation() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}

// read records a request read whole (instance, tasks, events) by a view
// that began when generation returned gen, unless an operation was
// recorded since (it may have changed the request after the read) or a
// state as new is recorded.
func (r *recent) read(in *Instance, ts []*Task, evs []*Event, gen uint64) {
	if r == nil || in == nil || in.ID == 0 || len(evs) > maxRecentEvents {
		return
	}
	s := newState(in, ts)
	s.complete = true
	s.events = make([]Event, len(evs))
	for i, e := range evs {
		s.events[i] = *e
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != gen {
		return
	}
	if old, ok := r.byInst[in.ID]; ok && (old.in.Rev > in.Rev || (old.in.Rev == in.Rev && old.complete)) {
		return
	}
	r.store(s)
}

// view returns copies of the recorded state of instance id with all its
// events, if it is known whole.
func (r *recent) view(id int64) (*Instance, []*Task, []*Event, bool) {
	if r == nil {
		return nil, nil, nil, false
	}
	r.mu.Lock()
	s, ok := r.byInst[id]
	r.mu.Unlock()
	if !ok || !s.complete {
		return nil, nil, nil, false
	}
	in, ts := s.copies()
	evs := make([]*Event, len(s.events))
	for i := range s.events {
		e := s.events[i]
		evs[i] = &e
	}
	return in, ts, evs, true
}

// store records s, replacing what is recorded of its instance; r.mu is
// held.
func (r *recent) store(s *recentState) {
	id := s.in.ID
	if old, ok := r.byInst[id]; ok {
		for _, t := range old.tasks {
			if r.byTask[t.ID] == id {
				delete(r.byTask, t.ID)
			}
		}
	} else {
		if gone := r.ring[r.next]; gone != 0 {
			r.forget(gone)
		}
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.byInst[id] = s
	for _, t := range s.tasks {
		r.byTask[t.ID] = id
	}
}

// copies returns copies of s's instance and tasks.
func (s *recentState) copies() (*Instance, []*Task) {
	in := s.in
	ts := make([]*Task, len(s.tasks))
	for i := range s.tasks {
		t := s.tasks[i]
		ts[i] = &t
	}
	return &in, ts
}

// task returns copies of the recorded state of task id's instance.
func (r *recent) task(id int64) (*Instance, []*Task, bool) {
	if r == nil {
		return nil, nil, false
	}
	r.mu.Lock()
	s, ok := r.byInst[r.byTask[id]]
	r.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	in, ts := s.copies()
	return in, ts, true
}

// drop forgets instance id's state: it proved out of date.
func (r *recent) drop(id int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget(id) // its ring slot stays: reused, it forgets nothing or a later state early
}

// forget removes instance id and its tasks; r.mu is held.
func (r *recent) forget(id int64) {
	if s, ok := r.byInst[id]; ok {
		for _, t := range s.tasks {
			if r.byTask[t.ID] == id {
				delete(r.byTask, t.ID)
			}
		}
	}
	delete(r.byInst, id)
}

// clear forgets every state: another process wrote to the store.
func (r *recent) clear() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	clear(r.byInst)
	clear(r.byTask)
	clear(r.ring)
	r.next = 0
}
