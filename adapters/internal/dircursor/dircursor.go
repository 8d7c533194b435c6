package dircursor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Cursor is a position in a directory listing.
type Cursor struct {
	Users bool   // false: listing departments; true: listing users
	Dept  int    // users phase: index of the department being listed
	Page  string // the platform's page token inside that listing
}

// String encodes c ("" for the start).
func (c Cursor) String() string {
	if !c.Users {
		if c.Page == "" {
			return ""
		}
		return "d:" + c.Page
	}
	return "u:" + strconv.Itoa(c.Dept) + ":" + c.Page
}

// Parse decodes a cursor written by String.
func Parse(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Cursor{}, fmt.Errorf("bad directory cursor %q", s)
	}
	switch kind {
	case "d":
		if rest == "" {
			return Cursor{}, fmt.Errorf("bad directory cursor %q: empty page", s)
		}
		return Cursor{Page: rest}, nil
	case "u":
		n, page, ok := strings.Cut(rest, ":")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 {
			return Cursor{}, fmt.Errorf("bad directory cursor %q: department index", s)
		}
		return Cursor{Users: true, Dept: i, Page: page}, nil
	}
	return Cursor{}, errors.New("bad directory cursor " + strconv.Quote(s))
}

// After returns the cursor following a page of the listing at c, given
// the platform's next page token ("" = that listing is done) and the
// number of departments whose users are listed. It returns "" when the
// whole directory is done.
func (c Cursor) After(next string, depts int) string {
	if next != "" {
		c.Page = next
		return c.String()
	}
	if !c.Users {
		if depts == 0 {
			return ""
		}
		return Cursor{Users: true}.String()
	}
	if c.Dept+1 >= depts {
		return ""
	}
	return Cursor{Users: true, Dept: c.Dept + 1}.String()
}
