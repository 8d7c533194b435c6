package sqlite

import (
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// assign must store driver values as database/sql's Scan would, for the
// destinations this package scans into, and refuse the rest with an error.
func TestAssignLikeDatabaseSQL(t *testing.T) {
	t.Parallel()
	var (
		i64    int64
		i      int
		s      string
		b      []byte
		ok     bool
		f      float64
		a      any
		status flows.Status
		raw    json.RawMessage
		at     time.Time
		ns     sql.NullString
	)
	cases := []struct {
		name    string
		dest    any
		src     any
		want    any
		wantErr bool
	}{
		{"int64", &i64, int64(42), int64(42), false},
		{"int from int64", &i, int64(7), 7, false},
		{"string", &s, "韩梅梅", "韩梅梅", false},
		{"string from blob", &s, []byte("x"), "x", false},
		{"string from int64", &s, int64(12), "12", false},
		{"bytes", &b, []byte{1, 2}, []byte{1, 2}, false},
		{"bytes from NULL", &b, nil, []byte(nil), false},
		{"bool true", &ok, int64(1), true, false},
		{"bool false", &ok, int64(0), false, false},
		{"float from int64", &f, int64(3), 3.0, false},
		{"any", &a, "v", "v", false},
		{"named string type", &status, "pending", flows.StatusPending, false},
		{"named byte slice type", &raw, []byte(`{}`), json.RawMessage(`{}`), false},
		{"scanner", msTime{&at}, int64(1764979200000), time.UnixMilli(1764979200000).UTC(), false},
		{"sql.NullString from NULL", &ns, nil, sql.NullString{}, false},
		{"NULL into string", &s, nil, nil, true},
		{"NULL into int64", &i64, nil, nil, true},
		{"text into int64", &i64, "12", nil, true},
		{"bool from 2", &ok, int64(2), nil, true},
		{"not a pointer", i64, int64(1), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := assign(tc.dest, tc.src)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			switch d := tc.dest.(type) {
			case msTime:
				require.Equal(t, tc.want, *d.p)
			case *int64:
				require.Equal(t, tc.want, *d)
			case *int:
				require.Equal(t, tc.want, *d)
			case *string:
				require.Equal(t, tc.want, *d)
			case *[]byte:
				require.Equal(t, tc.want, *d)
			case *bool:
				require.Equal(t, tc.want, *d)
			case *float64:
				require.Equal(t, tc.want, *d)
			case *any:
				require.Equal(t, tc.want, *d)
			case *flows.Status:
				require.Equal(t, tc.want, *d)
			case *json.RawMessage:
				require.Equal(t, tc.want, *d)
			case *sql.NullString:
				require.Equal(t, tc.want, *d)
			default:
				t.Fatalf("no check for %T", d)
			}
		})
	}
}
