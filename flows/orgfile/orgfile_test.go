package orgfile_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/orgfile"
)

func TestExampleOrg(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/org.yaml")
	require.NoError(t, err)
	users, depts, err := orgfile.Parse("org.yaml", src)
	require.NoError(t, err)
	require.Len(t, depts, 4)
	require.GreaterOrEqual(t, len(users), 12)
	byID := map[string]*flows.User{}
	roles := map[string]bool{}
	locales := map[string]int{}
	for _, u := range users {
		byID[u.ID] = u
		for _, r := range u.Roles {
			roles[r] = true
		}
		locales[u.Locale]++
		require.Equal(t, u.ID, u.Platforms["web"], "web id of %s", u.ID)
		for _, p := range []string{"feishu", "wecom", "dingtalk", "teams"} {
			require.NotEmpty(t, u.Platforms[p], "%s id of %s", p, u.ID)
		}
		require.True(t, strings.HasPrefix(u.Platforms["feishu"], "ou_"))
	}
	for _, r := range []string{"hr", "finance", "cfo", "it", "admin", "office", "employee"} {
		require.True(t, roles[r], "someone has role %s", r)
	}
	for _, u := range users {
		if slices.Contains(u.Roles, "office") {
			require.Equal(t, "hradm", u.Dept, "行政 (office) is in 人事行政部: %s", u.ID)
		}
	}
	require.Equal(t, 2, locales["en"])
	require.Equal(t, "王总", byID["wangzong"].Name)
	require.Equal(t, "Europe/London", byID["tom"].TZ)
}

const goodYAML = `departments:
  - {id: exec, name: 总经办, head: boss}
  - {id: eng, name: 研发部, head: lead, parent: exec}
users:
  - {id: boss, name: 王总, dept: exec, platforms: {feishu: ou_1}}
  - {id: lead, name: 李雷, dept: eng, manager: boss, locale: zh-CN, tz: Asia/Shanghai, platforms: {feishu: ou_2}}
  - {id: dev, name: Tom, dept: eng, manager: lead, locale: en, roles: [employee]}
`

func TestParseYAMLMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"duplicate user id", "id: dev,", "id: lead,", []string{"org.yaml:7: duplicate user id \"lead\" (first at line 6)"}},
		{"unknown manager", "manager: lead,", "manager: ghost,", []string{"org.yaml:7: user dev: unknown manager \"ghost\""}},
		{"manager cycle", "{id: boss, name: 王总,", "{id: boss, name: 王总, manager: dev,", []string{
			"org.yaml:5: user boss: cycle in the manager chain", "org.yaml:6: user lead: cycle", "org.yaml:7: user dev: cycle"}},
		{"unknown department", "dept: eng, manager: lead", "dept: rnd, manager: lead", []string{"org.yaml:7: user dev: unknown department \"rnd\""}},
		{"unknown head", "head: lead,", "head: nobody,", []string{"org.yaml:3: department eng: head \"nobody\" is not a known user"}},
		{"parent cycle", "{id: exec, name: 总经办, head: boss}", "{id: exec, name: 总经办, head: boss, parent: eng}", []string{
			"org.yaml:2: department exec: parent cycle", "org.yaml:3: department eng: parent cycle"}},
		{"unknown parent", "parent: exec}", "parent: hq}", []string{"org.yaml:3: department eng: parent \"hq\" is not a known department"}},
		{"duplicate platform id", "feishu: ou_2", "feishu: ou_1", []string{"org.yaml:6: user lead: feishu id \"ou_1\" is already used by boss"}},
		{"missing id", "{id: dev, name: Tom,", "{name: Tom,", []string{"org.yaml:7: user without id"}},
		{"missing name", "name: Tom,", "", []string{"org.yaml:7: user dev without name"}},
		{"bad locale", "locale: en,", "locale: klingon,", []string{"org.yaml:7: user dev: bad locale \"klingon\""}},
		{"bad time zone", "tz: Asia/Shanghai", "tz: Asia/Atlantis", []string{"org.yaml:6: user lead: unknown time zone \"Asia/Atlantis\""}},
		{"unknown key", "roles: [employee]", "role: [employee]", []string{"org.yaml:7: user: field role not found in type flows.User"}},
		{"bad yaml", "users:", "users: [", []string{"org.yaml:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, goodYAML, tc.old)
			users, depts, err := orgfile.Parse("org.yaml", []byte(strings.Replace(goodYAML, tc.old, tc.new, 1)))
			require.Error(t, err)
			require.Nil(t, users, "nothing partial on error")
			require.Nil(t, depts)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tc.want), "got %v", err)
			for i, w := range tc.want {
				require.Contains(t, lines[i], w)
			}
		})
	}
}

func TestParseYAMLGood(t *testing.T) {
	t.Parallel()
	users, depts, err := orgfile.Parse("org.yml", []byte(goodYAML))
	require.NoError(t, err)
	require.Len(t, users, 3)
	require.Equal(t, &flows.Department{ID: "eng", Name: "研发部", Head: "lead", Parent: "exec"}, depts[1])
	require.Equal(t, map[string]string{"feishu": "ou_1", "web": "boss"}, users[0].Platforms)
}

const usersCSV = `id,name,email,dept,manager,roles,locale,tz,feishu,wecom,dingtalk,teams
boss,王总,boss@example.com,exec,,admin;employee,zh-CN,Asia/Shanghai,ou_1,Boss,d1,29:1
lead,李雷,lead@example.com,eng,boss,employee,zh-CN,Asia/Shanghai,ou_2,Lead,d2,
dev,Tom,dev@example.com,eng,lead,,en,Europe/London,,,,
`

func TestParseCSV(t *testing.T) {
	t.Parallel()
	users, depts, err := orgfile.Parse("users.csv", []byte(usersCSV))
	require.NoError(t, err)
	require.Nil(t, depts)
	require.Len(t, users, 3)
	require.Equal(t, &flows.User{ID: "boss", Name: "王总", Email: "boss@example.com", Dept: "exec", Roles: []string{"admin", "employee"},
		Locale: "zh-CN", TZ: "Asia/Shanghai", Platforms: map[string]string{"feishu": "ou_1", "wecom": "Boss", "dingtalk": "d1", "teams": "29:1", "web": "boss"}}, users[0])
	require.Equal(t, map[string]string{"web": "dev"}, users[2].Platforms)

	_, depts, err = orgfile.Parse("departments.csv", []byte("id,name,name_en,head,parent\nexec,总经办,Executive office,,\neng,研发部,Engineering,,exec\n"))
	require.NoError(t, err)
	require.Equal(t, "Engineering", depts[1].NameEN)
}

func TestParseCSVExtraColumns(t *testing.T) {
	t.Parallel()
	// An Excel export: other columns, another order, header in capitals,
	// optional columns left out.
	src := "\xef\xbb\xbf工号,Name,ID,Email,职位,Manager,Roles,Feishu\n" +
		"001,王总,boss,boss@example.com,CEO,,admin;employee,ou_1\n" +
		"002,李雷,lead,lead@example.com,研发经理,boss,employee,\n"
	users, _, err := orgfile.Parse("export.csv", []byte(src))
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.Equal(t, &flows.User{ID: "boss", Name: "王总", Email: "boss@example.com", Roles: []string{"admin", "employee"},
		Platforms: map[string]string{"feishu": "ou_1", "web": "boss"}}, users[0])
	require.Equal(t, "boss", users[1].Manager)

	_, depts, err := orgfile.Parse("departments.csv", []byte("Head,ID,Name,Cost center\nboss,exec,总经办,CC01\n"))
	require.NoError(t, err)
	require.Equal(t, &flows.Department{ID: "exec", Name: "总经办", Head: "boss"}, depts[0])
}

func TestParseCSVMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, src string
		want            []string
	}{
		{"every bad row", "users.csv", usersCSV + "dev,Tom 2,,,ghost,,xx,Mars/X,ou_1,,,\n,,,,,,,,,,,\n", []string{
			"users.csv:5: duplicate user id \"dev\" (first at line 4)",
			"users.csv:6: user without id",
		}},
		{"unknown manager and bad tz", "users.csv", usersCSV + "ops,Ops,,,ghost,,xx,Mars/X,ou_1,,,\n", []string{
			"users.csv:5: user ops: unknown manager \"ghost\"",
			"users.csv:5: user ops: bad locale \"xx\"",
			"users.csv:5: user ops: unknown time zone \"Mars/X\"",
			"users.csv:5: user ops: feishu id \"ou_1\" is already used by boss",
		}},
		{"no name column", "users.csv", "id,nom\nx,y\n", []string{`users.csv:1: header has no column "name" (header is "id,nom"`}},
		{"no column known", "users.csv", "工号,姓名\nx,y\n", []string{`users.csv:1: header has no column "id"`, `users.csv:1: header has no column "name"`}},
		{"column twice", "users.csv", "id,name,Email,email\nx,y,a@b.cn,a@b.cn\n", []string{`users.csv:1: column "email" given twice`}},
		{"short row", "users.csv", usersCSV + "a,b\n", []string{"users.csv:5: 2 columns, want 12"}},
		{"bad email", "users.csv", usersCSV + "ops,Ops,ops at example.com,,,,,,,,,\nqa,QA,qa@,,,,,,,,,\npm,PM,PM <pm@example.com>,,,,,,,,,\n", []string{
			`users.csv:5: user ops: bad email address "ops at example.com"`,
			`users.csv:6: user qa: bad email address "qa@"`,
			`users.csv:7: user pm: bad email address "PM <pm@example.com>"`,
		}},
		{"bad email in yaml", "org.yaml", "users:\n  - {id: a, name: A, email: a@localhost}\n", []string{`org.yaml:2: user a: bad email address "a@localhost"`}},
		{"dept without name column", "departments.csv", "id,name_en\na,A\n", []string{`departments.csv:1: header has no column "name"`}},
		{"empty", "users.csv", "", []string{"users.csv:1: empty CSV"}},
		{"dept parent cycle", "departments.csv", "id,name,name_en,head,parent\na,A,,,b\nb,B,,,a\n", []string{
			"departments.csv:2: department a: parent cycle", "departments.csv:3: department b: parent cycle"}},
		{"broken quotes", "users.csv", "id,name\n\"x,y\n", []string{"users.csv:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			users, depts, err := orgfile.Parse(tc.file, []byte(tc.src))
			require.Error(t, err)
			require.Nil(t, users)
			require.Nil(t, depts)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tc.want), "got %v", err)
			for i, w := range tc.want {
				require.Contains(t, lines[i], w)
			}
		})
	}
	_, _, err := orgfile.Parse("org.json", []byte("{}"))
	require.ErrorContains(t, err, "unknown format")
}

func FuzzOrgParse(f *testing.F) {
	f.Add("org.yaml", []byte(goodYAML))
	f.Add("users.csv", []byte(usersCSV))
	f.Add("departments.csv", []byte("id,name,name_en,head,parent\na,A,,,b\n"))
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		users, depts, err := orgfile.Parse(name, src)
		if err != nil {
			require.Nil(t, users)
			require.Nil(t, depts)
			return
		}
		// What is returned is consistent: unique ids, known managers.
		ids := map[string]bool{}
		for _, u := range users {
			require.NotEmpty(t, u.ID)
			require.False(t, ids[u.ID])
			ids[u.ID] = true
		}
		for _, u := range users {
			if u.Manager != "" {
				require.True(t, ids[u.Manager])
			}
		}
	})
}
