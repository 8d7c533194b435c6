package flows

import "sync"

// recentInstances bounds the instances whose last written state an engine
// keeps for its next decision on them (recent).
const recentInstances = 4096

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
type recent struct {
	mu     sync.Mutex
	byInst map[int64]*recentState
	byTask map[int64]int64 // task id -> instance id
	ring   []int64         // instance ids in the order they came in
	next   int             // the ring's slot the next new instance takes
}

type recentState struct {
	in    Instance
	tasks []Task
}

func newRecent(n int) *recent {
	return &recent{byInst: make(map[int64]*recentState, n), byTask: make(map[int64]int64, 2*n), ring: make([]int64, n)}
}

// put records in and its tasks ts as committed, unless a state of the
// same or a higher revision is recorded already.
func (r *recent) put(in *Instance, ts []*Task) {
	if r == nil || in == nil || in.ID == 0 {
		return
	}
	s := &recentState{in: *in, tasks: make([]Task, len(ts))}
	for i, t := range ts {
		s.tasks[i] = *t
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byInst[in.ID]; ok {
		if old.in.Rev >= in.Rev {
			return
		}
	} else {
		if gone := r.ring[r.next]; gone != 0 {
			r.forget(gone)
		}
		r.ring[r.next] = in.ID
		r.next = (r.next + 1) % len(r.ring)
	}
	r.byInst[in.ID] = s
	for _, t := range ts {
		r.byTask[t.ID] = in.ID
	}
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
	in := s.in
	ts := make([]*Task, len(s.tasks))
	for i := range s.tasks {
		t := s.tasks[i]
		ts[i] = &t
	}
	return &in, ts, true
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
