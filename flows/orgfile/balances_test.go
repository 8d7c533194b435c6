package orgfile_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/orgfile"
)

var importDay = time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)

func TestExampleOrgBalances(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/org.yaml")
	require.NoError(t, err)
	users, _, err := orgfile.Parse("org.yaml", src)
	require.NoError(t, err)
	bs, err := orgfile.Balances("org.yaml", src, users, importDay)
	require.NoError(t, err)
	require.Len(t, bs, len(users), "every example user has an annual leave balance")
	for _, b := range bs {
		require.Equal(t, "annual", b.Type)
		require.Equal(t, 2031, b.Year, "no year: the year of the import")
	}
}

func TestBalancesFile(t *testing.T) {
	t.Parallel()
	known := []*flows.User{{ID: "lilei"}, {ID: "tom"}}
	used := 2.0
	tests := []struct {
		name    string
		file    string
		src     string
		want    []flows.BalanceUpdate
		wantErr string
	}{
		{"Good", "org.yaml", "balances:\n  - {user: lilei, type: annual, total: 10}\n  - {user: tom, type: annual, year: 2032, total: 5.5, used: 2}\n",
			[]flows.BalanceUpdate{{User: "lilei", Type: "annual", Year: 2031, Total: 10}, {User: "tom", Type: "annual", Year: 2032, Total: 5.5, Used: &used}}, ""},
		{"None", "org.yaml", "users: []\n", nil, ""},
		{"CSVHasNone", "users.csv", "id,name\n", nil, ""},
		{"UnknownUser", "org.yaml", "balances:\n  - {user: nobody, type: annual, total: 10}\n", nil, `org.yaml:2: balance: user "nobody" is not in the directory`},
		{"NoTotal", "org.yaml", "balances:\n  - {user: tom, type: annual}\n", nil, "org.yaml:2: balance: total (days granted) is missing"},
		{"NegativeTotal", "org.yaml", "balances:\n  - {user: tom, type: annual, total: -1}\n", nil, "org.yaml:2: balance: The total of the leave balance is not valid"},
		{"TooManyDays", "org.yaml", "balances:\n  - {user: tom, type: annual, total: 400}\n", nil, "The total of the leave balance is not valid"},
		{"BadYear", "org.yaml", "balances:\n  - {user: tom, type: annual, year: 1900, total: 1}\n", nil, "The year of the leave balance is not valid"},
		{"NoType", "org.yaml", "balances:\n  - {user: tom, total: 1}\n", nil, "The type of the leave balance is not valid"},
		{"TextDays", "org.yaml", "balances:\n  - {user: tom, type: annual, total: ten}\n", nil, "org.yaml:2: balance:"},
		{"UnknownKey", "org.yaml", "balances:\n  - {user: tom, type: annual, total: 1, left: 1}\n", nil, "field left not found"},
		{"Twice", "org.yaml", "balances:\n  - {user: tom, type: annual, total: 1}\n  - {user: tom, type: annual, total: 2}\n", nil, "org.yaml:3: balance: tom/annual/2031 given twice (first on line 2)"},
		{"NotAList", "org.yaml", "balances: {user: tom}\n", nil, "invalid YAML"},
		{"BrokenYAML", "org.yaml", "balances: [\n", nil, "invalid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := orgfile.Balances(tc.file, []byte(tc.src), known, importDay)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Nil(t, got, "a bad file gives nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzOrgBalances(f *testing.F) {
	f.Add([]byte("balances:\n  - {user: tom, type: annual, year: 2032, total: 5.5, used: 2}\n"))
	f.Add([]byte("balances: [\n"))
	known := []*flows.User{{ID: "tom"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		bs, err := orgfile.Balances("org.yaml", src, known, importDay)
		if err != nil {
			require.Nil(t, bs)
			return
		}
		for _, b := range bs {
			require.NoError(t, flows.CheckBalanceUpdate(b), "only valid balances come back")
			require.Equal(t, "tom", b.User)
		}
	})
}
