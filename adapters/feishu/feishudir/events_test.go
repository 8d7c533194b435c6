package feishudir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishudir"
	"github.com/flowbot/flowbot/bots/dirsync"
)

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	env := func(typ, object string) []byte {
		return []byte(`{"schema":"2.0","header":{"event_id":"e1","event_type":"` + typ + `"},"event":{"object":` + object + `}}`)
	}
	tests := []struct {
		name    string
		payload []byte
		want    dirsync.Event
		err     string
	}{
		{name: "UserCreated", payload: env(feishudir.EventUserCreated, `{"open_id":"ou_1","name":"Ann","email":"a@x","mobile":"+86 138","department_ids":["od_1","od_2"],"leader_user_id":"ou_0","status":{"is_resigned":false}}`),
			want: dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "ou_1", Name: "Ann", Email: "a@x", Mobile: "+86 138", Depts: []string{"od_1", "od_2"}, Manager: "ou_0", Active: true}}},
		{name: "UserFrozen", payload: env(feishudir.EventUserUpdated, `{"open_id":"ou_1","name":"Ann","status":{"is_frozen":true}}`),
			want: dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "ou_1", Name: "Ann"}}},
		{name: "UserDeleted", payload: env(feishudir.EventUserDeleted, `{"open_id":"ou_1"}`),
			want: dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: "ou_1"}}},
		{name: "DeptCreatedAtRoot", payload: env(feishudir.EventDeptCreated, `{"open_department_id":"od_1","name":"Sales","parent_department_id":"0","leader_user_id":"ou_0"}`),
			want: dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "od_1", Name: "Sales", Head: "ou_0"}, Fields: []string{dirsync.FieldName, dirsync.FieldParent, dirsync.FieldHead}}},
		{name: "DeptDeleted", payload: env(feishudir.EventDeptDeleted, `{"open_department_id":"od_1"}`),
			want: dirsync.Event{Op: dirsync.DeptGone, Dept: dirsync.Dept{ID: "od_1"}}},
		{name: "OtherEvent", payload: env("im.message.receive_v1", `{}`), err: "not a contact event"},
		{name: "NoOpenID", payload: env(feishudir.EventUserUpdated, `{"name":"x"}`), err: "without open_id"},
		{name: "NoDeptID", payload: env(feishudir.EventDeptDeleted, `{"department_id":"d"}`), err: "without open_department_id"},
		{name: "NullObject", payload: env(feishudir.EventUserDeleted, `null`), err: "no object"},
		{name: "NoEvent", payload: []byte(`{"schema":"2.0","header":{"event_type":"contact.user.deleted_v3"}}`), err: "no event body"},
		{name: "NotJSON", payload: []byte(`{`), err: "decode contact event"},
		{name: "CreateTime", payload: []byte(`{"schema":"2.0","header":{"event_type":"contact.user.deleted_v3","create_time":"1764930000000"},"event":{"object":{"open_id":"ou_1"}}}`),
			want: dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: "ou_1"}, At: time.UnixMilli(1764930000000)}},
		{name: "BadCreateTime", payload: []byte(`{"schema":"2.0","header":{"event_type":"contact.user.deleted_v3","create_time":"soon"},"event":{"object":{"open_id":"ou_1"}}}`), err: "bad create_time"},
		{name: "WrongType", payload: env(feishudir.EventUserCreated, `{"open_id":["ou_1"]}`), err: "decode contact.user.created_v3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := feishudir.DecodeEvent(tt.payload)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzDecodeEvent: any payload is an event with the ids it needs, or an
// error; never a panic.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"schema":"2.0","header":{"event_type":"contact.user.updated_v3"},"event":{"object":{"open_id":"ou_1","department_ids":["od_1"],"status":{"is_resigned":true}},"old_object":{"name":"x"}}}`))
	f.Add([]byte(`{"schema":"2.0","header":{"event_type":"contact.department.created_v3"},"event":{"object":{"open_department_id":"od_1","parent_department_id":"0"}}}`))
	f.Add([]byte(`{"header":{"event_type":"contact.user.deleted_v3"},"event":{"object":null}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := feishudir.DecodeEvent(payload)
		if err != nil {
			return
		}
		switch ev.Op {
		case dirsync.PersonChanged, dirsync.PersonGone:
			require.NotEmpty(t, ev.Person.ID)
		case dirsync.DeptChanged, dirsync.DeptGone:
			require.NotEmpty(t, ev.Dept.ID)
		default:
			t.Fatalf("unknown op %q", ev.Op)
		}
	})
}
