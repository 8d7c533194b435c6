package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
)

// cmdTokens runs `flowbot tokens create|list|revoke`.
func cmdTokens(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	fset := flag.NewFlagSet("tokens", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	cfgPath := fset.String("config", "", "config file")
	name := fset.String("name", "", "what the token is for")
	scopes := fset.String("scopes", "", "read, write, admin, flow:ID (comma separated)")
	user := fset.String("user", "", "directory user the token acts for (empty: a service token)")
	expires := fset.Duration("expires", 0, "lifetime, e.g. 720h (0: never expires)")
	rest, id := args[1:], ""
	if args[0] == "revoke" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:] // tokens revoke ID [--config FILE]
	}
	if err := fset.Parse(rest); err != nil {
		return errUsage
	}
	if id == "" && fset.NArg() == 1 {
		id = fset.Arg(0)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := tokenStore(st)
	if err != nil {
		return err
	}
	switch args[0] {
	case "create":
		if fset.NArg() != 0 {
			return errUsage
		}
		_, secret, err := createToken(ctx, st, ts, *name, *scopes, *user, *expires, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintln(stdout, "# shown once: keep it now / 令牌只显示这一次，请立即保存")
		return nil
	case "list":
		list, err := ts.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tUSER\tEXPIRES\tLAST USED\tSTATE")
		for _, t := range list {
			state := "active"
			if err := t.Usable(time.Now()); err != nil {
				state = strings.TrimPrefix(err.Error(), "token ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), dash(t.User), when(t.ExpiresAt), when(t.LastUsedAt), state)
		}
		return tw.Flush()
	case "revoke":
		if id == "" {
			return errUsage
		}
		if err := ts.RevokeToken(ctx, id, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", id)
		return nil
	}
	return errUsage
}

// createToken checks the parameters (the user must be in the directory),
// stores a new token and returns it with its secret.
func createToken(ctx context.Context, st flows.Store, ts tokens.Store, name, scopeList, user string, ttl time.Duration, now time.Time) (*tokens.Token, string, error) {
	scopes, err := tokens.ParseScopes(scopeList)
	if err != nil {
		return nil, "", fmt.Errorf("--scopes: %w", err)
	}
	if user != "" {
		if _, err := st.User(ctx, user); errors.Is(err, flows.ErrNotFound) {
			return nil, "", fmt.Errorf("--user: %s is not in the directory", user)
		} else if err != nil {
			return nil, "", fmt.Errorf("look up --user %s: %w", user, err)
		}
	}
	t, secret, err := tokens.New(tokens.NewParams{Name: name, Scopes: scopes, User: user, TTL: ttl, Now: now})
	if err != nil {
		return nil, "", err
	}
	if err := ts.CreateToken(ctx, t); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
