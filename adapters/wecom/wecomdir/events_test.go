package wecomdir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom/wecomdir"
	"github.com/flowbot/flowbot/bots/dirsync"
)

func xmlOf(changeType, inner string) []byte {
	return []byte(`<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime>` +
		`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType>` + changeType + `</ChangeType>` + inner + `</xml>`)
}

func TestDecodeChangeContact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		plain []byte
		want  dirsync.Event
		err   string
	}{
		{name: "CreateUser", plain: xmlOf("create_user", `<UserID><![CDATA[zhangsan]]></UserID><Name><![CDATA[张三]]></Name><Department><![CDATA[1,2,3]]></Department><MainDepartment>2</MainDepartment><IsLeaderInDept><![CDATA[1,0,0]]></IsLeaderInDept><DirectLeader><![CDATA[lisi,wangwu]]></DirectLeader><Mobile><![CDATA[13800000000]]></Mobile><Email><![CDATA[zhangsan@gzdev.com]]></Email><BizMail><![CDATA[zhangsan@corp.example]]></BizMail><Status>1</Status>`),
			want: dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "zhangsan", Name: "张三", Email: "zhangsan@corp.example", Mobile: "13800000000", Depts: []string{"2", "1", "3"}, Manager: "lisi", Active: true}}},
		{name: "UpdateUserOnlyName", plain: xmlOf("update_user", `<UserID>zhangsan</UserID><Name>张叁</Name>`),
			want: dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "zhangsan", Name: "张叁", Active: true}, Fields: []string{dirsync.FieldName}}},
		{name: "UpdateUserQuit", plain: xmlOf("update_user", `<UserID>zhangsan</UserID><Status>5</Status>`),
			want: dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "zhangsan"}, Fields: []string{dirsync.FieldActive}}},
		{name: "UpdateUserNewID", plain: xmlOf("update_user", `<UserID>zhangsan</UserID><NewUserID>zhangsan2</NewUserID>`),
			want: dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "zhangsan2", Active: true}, OldID: "zhangsan", Fields: []string{}}},
		{name: "DeleteUser", plain: xmlOf("delete_user", `<UserID>zhangsan</UserID>`),
			want: dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: "zhangsan"}}},
		{name: "CreateParty", plain: xmlOf("create_party", `<Id>2</Id><Name><![CDATA[研发部]]></Name><ParentId>1</ParentId><Order>1</Order>`),
			want: dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "2", Name: "研发部", Parent: "1"}, Fields: []string{dirsync.FieldName, dirsync.FieldParent}}},
		{name: "UpdatePartyParentOnly", plain: xmlOf("update_party", `<Id>2</Id><ParentId>3</ParentId>`),
			want: dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "2", Parent: "3"}, Fields: []string{dirsync.FieldParent}}},
		{name: "DeleteParty", plain: xmlOf("delete_party", `<Id>2</Id>`),
			want: dirsync.Event{Op: dirsync.DeptGone, Dept: dirsync.Dept{ID: "2"}}},
		{name: "Tag", plain: xmlOf("update_tag", `<TagId>1</TagId>`), err: "not a member or department change"},
		{name: "OtherEvent", plain: []byte(`<xml><MsgType>event</MsgType><Event>enter_agent</Event></xml>`), err: "not a member or department change"},
		{name: "NoUserID", plain: xmlOf("delete_user", ``), err: "no UserID"},
		{name: "PartyIDNotANumber", plain: xmlOf("delete_party", `<Id>x</Id>`), err: "bad department id"},
		{name: "PartyIDZero", plain: xmlOf("create_party", `<Id>0</Id>`), err: "bad department id"},
		{name: "BadMainDepartment", plain: xmlOf("update_user", `<UserID>a</UserID><MainDepartment>-3</MainDepartment>`), err: "MainDepartment"},
		{name: "BadStatus", plain: xmlOf("update_user", `<UserID>a</UserID><Status>x</Status>`), err: "Status"},
		{name: "NotXML", plain: []byte(`<xml>`), err: "decode change_contact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wecomdir.DecodeChangeContact(tt.plain)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			tt.want.At = time.Unix(1403610513, 0) // CreateTime
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzDecodeChangeContact: any XML is an applicable event or an error,
// never a panic.
func FuzzDecodeChangeContact(f *testing.F) {
	f.Add(xmlOf("update_user", `<UserID>a</UserID><NewUserID>b</NewUserID><Department>1,2</Department><MainDepartment>2</MainDepartment><Status>4</Status>`))
	f.Add(xmlOf("update_party", `<Id>2</Id><Name>x</Name><ParentId>0</ParentId>`))
	f.Add(xmlOf("delete_user", `<UserID>a</UserID>`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		ev, err := wecomdir.DecodeChangeContact(plain)
		if err != nil {
			return
		}
		switch ev.Op {
		case dirsync.PersonChanged, dirsync.PersonGone:
			require.NotEmpty(t, ev.Person.ID)
		case dirsync.DeptChanged, dirsync.DeptGone:
			require.NotEmpty(t, ev.Dept.ID)
			require.NotEqual(t, ev.Dept.ID, ev.Dept.Parent)
		default:
			t.Fatalf("unknown op %q", ev.Op)
		}
	})
}
