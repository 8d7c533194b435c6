package flowdef

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ParseDir parses every *.yaml and *.yml file of dir. It returns the
// definitions in file name order and their sources by flow id. Mistakes of
// all files come back together as Errors; a flow id defined twice and an
// alias claimed by two flows are mistakes too.
func ParseDir(dir string) ([]*Definition, map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read flow directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var errs Errors
	var defs []*Definition
	srcs := map[string][]byte{}
	files := map[string]string{}
	aliases := map[string]string{}
	for _, n := range names {
		path := filepath.Join(dir, n)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read flow file: %w", err)
		}
		d, err := Parse(path, src)
		if err != nil {
			if es, ok := err.(Errors); ok {
				errs = append(errs, es...)
				continue
			}
			return nil, nil, fmt.Errorf("parse %s: %w", path, err)
		}
		if other, dup := files[d.ID]; dup {
			errs = append(errs, &Error{File: path, Line: max(d.idLine, 1), Col: 1, Msg: fmt.Sprintf("flow id %q is already defined in %s", d.ID, other)})
			continue
		}
		files[d.ID] = path
		for _, a := range append([]string{d.ID}, d.Aliases...) {
			key := strings.ToLower(a)
			if owner, taken := aliases[key]; taken && owner != d.ID {
				errs = append(errs, &Error{File: path, Line: max(d.idLine, 1), Col: 1, Msg: fmt.Sprintf("alias %q is already used by flow %s", a, owner)})
				continue
			}
			aliases[key] = d.ID
		}
		defs = append(defs, d)
		srcs[d.ID] = src
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return defs, srcs, nil
}
