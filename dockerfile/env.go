package dockerfile

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// vars is the set of variables a word is expanded with: build args, ARGs
// and ENVs in effect, later ones replacing earlier ones. It implements
// shell.EnvGetter.
type vars struct {
	keys   []string
	values map[string]string
}

func newVars(capacity int) *vars {
	return &vars{keys: make([]string, 0, capacity), values: make(map[string]string, capacity)}
}

func (v *vars) Get(key string) (string, bool) {
	val, ok := v.values[key]
	return val, ok
}

func (v *vars) Keys() []string { return v.keys }

func (v *vars) set(key, value string) {
	if _, ok := v.values[key]; !ok {
		v.keys = append(v.keys, key)
	}
	v.values[key] = value
}

func (v *vars) clone() *vars {
	c := newVars(len(v.keys) + 8)
	for _, k := range v.keys {
		c.set(k, v.values[k])
	}
	return c
}

// expander expands words like Docker's shell lexer, remembering the
// variables it could not find.
type expander struct {
	lex       *shell.Lex
	escape    rune
	unmatched map[string]struct{}
}

func newExpander(escape rune) *expander {
	return &expander{lex: shell.NewLex(escape), escape: escape}
}

// plain reports that the lexer would return w unchanged: no variable, no
// quote, no escape. Most words are plain and skip the lexer.
func (x *expander) plain(w string) bool {
	for _, r := range w {
		if r == '$' || r == '\'' || r == '"' || r == x.escape {
			return false
		}
	}
	return true
}

// word is ProcessWord: one word, quotes removed, variables replaced.
// ignore holds names that count as set even without a value (declared ARGs).
func (x *expander) word(w string, env *vars, ignore map[string]struct{}) (string, error) {
	if x.plain(w) {
		return w, nil
	}
	res, err := x.lex.ProcessWordWithMatches(w, env)
	x.note(res.Unmatched, ignore)
	return res.Result, clarify(w, err)
}

// words is ProcessWords: split into words after expansion (EXPOSE).
func (x *expander) words(w string, env *vars, ignore map[string]struct{}) ([]string, error) {
	if x.plain(w) {
		if w == "" {
			return nil, nil
		}
		return []string{w}, nil
	}
	res, err := x.lex.ProcessWordWithMatches(w, env)
	x.note(res.Unmatched, ignore)
	return res.Words, clarify(w, err)
}

// clarify replaces the lexer's message for a word that ends inside "${NAME",
// which names the end of input as an unprintable modifier.
func clarify(w string, err error) error {
	if err != nil && strings.Contains(err.Error(), "unsupported modifier (\uFFFD)") {
		return fmt.Errorf("failed to process %q: syntax error: missing '}'", w)
	}
	return err
}

func (x *expander) note(names, ignore map[string]struct{}) {
	for n := range names {
		if _, ok := ignore[n]; ok {
			continue
		}
		if x.unmatched == nil {
			x.unmatched = map[string]struct{}{}
		}
		x.unmatched[n] = struct{}{}
	}
}
