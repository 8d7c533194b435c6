package dirsync

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Person is one account of a platform's directory, with the platform's
// own ids.
type Person struct {
	ID      string   `json:"id"` // the id messages are sent to (open_id, userid...)
	Name    string   `json:"name"`
	Email   string   `json:"email,omitempty"`
	Mobile  string   `json:"mobile,omitempty"`
	Depts   []string `json:"depts,omitempty"`   // department ids, the main one first
	Manager string   `json:"manager,omitempty"` // the manager's account id
	// Active is false for a disabled, frozen or resigned account.
	Active bool `json:"active"`
}

// Dept is one department of a platform's directory.
type Dept struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameEN string `json:"name_en,omitempty"`
	Parent string `json:"parent,omitempty"`
	Head   string `json:"head,omitempty"` // the head's account id
}

// Cursor is where a Source continues: Token is what its previous page
// returned ("" = from the start); Depts are the departments this source
// returned so far (sources that list users per department page through
// them).
type Cursor struct {
	Token string
	Depts []Dept
}

// Page is one answer of a Source. Next is the token of the following page,
// "" when the listing is complete.
type Page struct {
	People []Person
	Depts  []Dept
	Next   string
}

// Source is one platform's directory, read page by page.
type Source interface {
	// Platform is the key of flows.User.Platforms the account ids belong
	// to ("feishu", "feishu:cli_a1", "dingtalk", "wecom", "teams").
	Platform() string
	// Fetch returns the page at c. An error of type *RateLimited is
	// retried after its wait; other errors stop the sync (its progress
	// kept).
	Fetch(ctx context.Context, c Cursor) (Page, error)
}

// RateLimited is the error a Source returns when the platform asked it to
// slow down.
type RateLimited struct {
	Platform string
	After    time.Duration // how long the platform asked to wait (0: unknown)
	Detail   string
}

func (e *RateLimited) Error() string {
	return fmt.Sprintf("%s: rate limited (retry after %s): %s", e.Platform, e.After, e.Detail)
}

// IsRateLimited reports whether err is (or wraps) a *RateLimited.
func IsRateLimited(err error) (*RateLimited, bool) {
	var rl *RateLimited
	ok := errors.As(err, &rl)
	return rl, ok
}
