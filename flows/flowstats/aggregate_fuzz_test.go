package flowstats_test

import (
	"testing"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// FuzzAggregateApply folds arbitrary event payloads and types: no panic,
// and nothing counted twice.
func FuzzAggregateApply(f *testing.F) {
	f.Add("submitted", []byte(`{"version":1}`), "task_created", []byte(`{"assignee":"a","status":"pending"}`), int64(3), int64(60))
	f.Add("transferred", []byte(`{"to":"b","task":9}`), "returned", []byte(`{"step":"x"}`), int64(0), int64(-5))
	f.Add("completed", []byte(`{"status":7}`), "approved", []byte(`nul`), int64(-1), int64(1<<40))
	f.Fuzz(func(t *testing.T, t1 string, d1 []byte, t2 string, d2 []byte, task, mins int64) {
		a := flowstats.NewAggregate(nil)
		at := origin
		later := at.Add(time.Duration(mins) * time.Minute)
		evs := []*flows.Event{
			{ID: 1, InstanceID: 1, FlowID: "f", Type: flows.EvSubmitted, Actor: "u", Data: []byte(`{"version":1}`), At: at},
			{ID: 2, InstanceID: 1, FlowID: "f", StepID: "s", TaskID: 1, Type: flows.EvTaskCreated, Data: []byte(`{"assignee":"a","status":"pending"}`), At: at},
			{ID: 3, InstanceID: 1, FlowID: "f", StepID: "s", TaskID: task, Type: flows.EventType(t1), Actor: "a", Data: d1, At: later},
			{ID: 4, InstanceID: 1, FlowID: "f", StepID: "s", TaskID: 1, Type: flows.EventType(t2), Actor: "a", Data: d2, At: later},
		}
		a.Apply(evs...)
		a.Apply(evs...)
		s := a.Summary(flowstats.Filter{})
		if s.Total.Submitted != 1 || s.Total.Ended() > 1 {
			t.Fatalf("one request counted as submitted %d, ended %d", s.Total.Submitted, s.Total.Ended())
		}
		for _, fl := range s.Flows {
			for _, st := range fl.Steps {
				if st.Tasks > 2 || st.WaitWork.Median < 0 {
					t.Fatalf("step %+v", st)
				}
			}
		}
	})
}
