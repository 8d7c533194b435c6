package bots

import (
	"errors"
	"strings"
	"unicode"
)

// Command is a parsed chat message: a command word and its arguments.
type Command struct {
	// Name is the first word, lower-cased, without a leading "/".
	Name string
	// Slash reports whether the message started with "/" (or "／").
	Slash bool
	// Args are the name=value arguments (names lower-cased; quotes removed).
	Args map[string]string
	// Words are the other arguments, in order (quotes removed).
	Words []string
}

// ErrUnclosedQuote is returned by ParseCommand for a quote that is not closed.
var ErrUnclosedQuote = errors.New("unclosed quote")

// closing maps opening quotes to their closing quote.
var closing = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '‘': '’', '「': '」', '『': '』'}

// ParseCommand splits text into a command word, name=value arguments and
// bare words. Whitespace separates arguments; a quote ("", ”, “”, ‘’, 「」)
// at the start of an argument or of a value groups text with spaces (a
// quote inside a word, as in it's, is literal); "=" or "＝" outside quotes separates a name from
// its value.
func ParseCommand(text string) (Command, error) {
	var c Command
	text = strings.TrimSpace(text)
	if r, ok := strings.CutPrefix(text, "/"); ok {
		c.Slash, text = true, r
	} else if r, ok := strings.CutPrefix(text, "／"); ok {
		c.Slash, text = true, r
	}
	type token struct {
		key, val string
		hasKey   bool
	}
	var toks []token
	var cur strings.Builder
	var t token
	inTok := false
	flush := func() {
		if !inTok {
			return
		}
		if t.hasKey {
			t.val = cur.String()
		} else {
			t.key = cur.String()
		}
		toks = append(toks, t)
		t, inTok = token{}, false
		cur.Reset()
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			flush()
		case closing[r] != 0 && cur.Len() == 0:
			inTok = true
			end := closing[r]
			j := i + 1
			for j < len(rs) && rs[j] != end {
				j++
			}
			if j >= len(rs) {
				return Command{Slash: c.Slash}, ErrUnclosedQuote
			}
			cur.WriteString(string(rs[i+1 : j]))
			i = j
		case (r == '=' || r == '＝') && !t.hasKey && inTok && cur.Len() > 0:
			t.key, t.hasKey = cur.String(), true
			cur.Reset()
		default:
			inTok = true
			cur.WriteRune(r)
		}
	}
	flush()
	if len(toks) == 0 {
		return c, nil
	}
	c.Name = strings.ToLower(toks[0].key)
	if toks[0].hasKey { // "/key=value": no command word
		c.Name = ""
		toks = append([]token{{}}, toks...)
	}
	for _, t := range toks[1:] {
		if t.hasKey {
			if c.Args == nil {
				c.Args = map[string]string{}
			}
			c.Args[strings.ToLower(strings.TrimSpace(t.key))] = t.val
			continue
		}
		c.Words = append(c.Words, t.key)
	}
	return c, nil
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// closest returns the candidate nearest to word, if near enough to be a
// plausible typo.
func closest(word string, candidates []string) (string, bool) {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	n := len([]rune(word))
	if best == "" || bestD > max(1, min(3, n/2)) {
		return "", false
	}
	return best, true
}
