package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// cmdConfigCheck validates a config file the way serve reads it (${ENV}
// expanded): unknown keys, missing secrets, bad values and the demo mode
// next to a real IM, one line per mistake with the file's line number.
func cmdConfigCheck(args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("config check", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	path := fset.String("config", "", "config file")
	if err := fset.Parse(args); err != nil || *path == "" || fset.NArg() > 0 {
		return errUsage
	}
	src, err := os.ReadFile(*path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	mistakes := checkConfig(*path, src)
	if len(mistakes) == 0 {
		fmt.Fprintf(stdout, "ok  %s\n", *path)
		return nil
	}
	for _, m := range mistakes {
		fmt.Fprintln(stdout, m)
	}
	return fmt.Errorf("%d mistake(s) in %s", len(mistakes), *path)
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type`)
	configKey    = regexp.MustCompile(`^config: ([A-Za-z0-9_.\[\]]+): `)
)

// checkConfig lists the mistakes of a config file as "FILE:LINE: text".
func checkConfig(name string, src []byte) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var out []string
	cfg, err := ParseConfig(bytes.NewReader(src), true)
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors { // "line 3: field foo not found in type main.LogConfig"
			if m := yamlLine.FindStringSubmatch(e); m != nil {
				text := m[2]
				if k := unknownField.FindStringSubmatch(text); k != nil {
					text = "unknown key " + k[1]
				}
				out = append(out, fmt.Sprintf("%s:%s: %s", name, m[1], text))
			} else {
				out = append(out, fmt.Sprintf("%s: %s", name, e))
			}
		}
		err = cfg.Validate() // the rest was decoded: check it too
	} else if err != nil && !strings.HasPrefix(err.Error(), "config: ") {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else if err != nil {
		list = []error{err}
	}
	for _, e := range list {
		line := 0
		if m := configKey.FindStringSubmatch(e.Error()); m != nil {
			line = keyLine(&doc, m[1])
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", name, line, strings.TrimPrefix(e.Error(), "config: ")))
	}
	return out
}

// keyLine is the line of key ("feishu.apps[0].app_secret") in doc, or of
// its nearest parent that is there (a missing key is reported where it
// belongs); 1 for a key of a missing section.
func keyLine(doc *yaml.Node, key string) int {
	n, line := doc, 1
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range strings.Split(strings.ReplaceAll(key, "[", ".["), ".") {
		var next *yaml.Node
		if idx, ok := strings.CutPrefix(part, "["); ok {
			i, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = n.Content[i]
			}
		} else if n.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == part {
					line, next = n.Content[j].Line, n.Content[j+1]
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			line = n.Line
		}
	}
	return line
}
