package dingtalkdir_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalkdir"
	"github.com/flowbot/flowbot/bots/dirsync"
)

func TestDecodeOrgEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, data string
		want            []dirsync.Event
		err             string
	}{
		{name: "UserAdd", typ: dingtalkdir.EventUserAdd, data: `{"userId":["u1","u2"],"timeStamp":"1690272000000"}`,
			want: []dirsync.Event{{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u1"}, Lookup: true}, {Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u2"}, Lookup: true}}},
		{name: "UserModifyCapitalised", typ: dingtalkdir.EventUserModify, data: `{"UserId":["u1"],"CorpId":"ding1"}`,
			want: []dirsync.Event{{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u1"}, Lookup: true}}},
		{name: "UserLeave", typ: dingtalkdir.EventUserLeave, data: `{"userId":["u1"]}`,
			want: []dirsync.Event{{Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u1"}}}},
		{name: "DeptCreateNumber", typ: dingtalkdir.EventDeptCreate, data: `{"deptId":[12]}`,
			want: []dirsync.Event{{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "12"}, Lookup: true}}},
		{name: "DeptModifyString", typ: dingtalkdir.EventDeptModify, data: `{"DeptId":["12"]}`,
			want: []dirsync.Event{{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "12"}, Lookup: true}}},
		{name: "DeptRemove", typ: dingtalkdir.EventDeptRemove, data: `{"deptId":[12]}`,
			want: []dirsync.Event{{Op: dirsync.DeptGone, Dept: dirsync.Dept{ID: "12"}}}},
		{name: "Other", typ: "chat_disband", data: `{}`, err: "not an organisation event"},
		{name: "NoIDs", typ: dingtalkdir.EventUserAdd, data: `{"userId":[]}`, err: "no id"},
		{name: "BlankUser", typ: dingtalkdir.EventUserAdd, data: `{"userId":[" "]}`, err: "bad userId"},
		{name: "NegativeDept", typ: dingtalkdir.EventDeptRemove, data: `{"deptId":[-1]}`, err: "bad deptId"},
		{name: "FractionDept", typ: dingtalkdir.EventDeptRemove, data: `{"deptId":[1.5]}`, err: "bad deptId"},
		{name: "NotJSON", typ: dingtalkdir.EventUserLeave, data: `{`, err: "decode user_leave_org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := dingtalkdir.DecodeOrgEvent(tt.typ, []byte(tt.data))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzDecodeOrgEvent: any data is applicable events or an error, never a
// panic.
func FuzzDecodeOrgEvent(f *testing.F) {
	f.Add(dingtalkdir.EventUserAdd, []byte(`{"userId":["u1"]}`))
	f.Add(dingtalkdir.EventDeptModify, []byte(`{"deptId":[1,"2"]}`))
	f.Add("x", []byte(`null`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		evs, err := dingtalkdir.DecodeOrgEvent(typ, data)
		if err != nil {
			return
		}
		require.NotEmpty(t, evs)
		for _, ev := range evs {
			require.True(t, ev.Person.ID != "" || ev.Dept.ID != "", "event without id: %+v", ev)
		}
	})
}
