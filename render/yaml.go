package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// doc reads one YAML file node by node, so that every error, including the
// validation of a value, names the line it is about. Decoding into structs
// would lose the lines of values and report unknown fields in Go's terms.
type doc struct{ file string }

func (d doc) errf(n *yaml.Node, format string, a ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &ConfigError{File: d.file, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// root parses data and returns its top mapping, or nil for an empty file.
func (d doc) root(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, d.syntaxErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, d.errf(&extra, "a second YAML document: keep one document per file")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.syntaxErr(err)
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = *n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(&n, "want a mapping of fields (key: value) at the top, got %s", kindName(&n))
	}
	return &n, nil
}

// syntaxErr turns yaml.v3's "yaml: line 3: ..." into file:3: ....
func (d doc) syntaxErr(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &ConfigError{File: d.file, Line: line, Msg: "invalid YAML: " + msg}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (anchors and aliases are not supported)"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return QuoteName(n.Value)
	}
	return "something else"
}

// fields calls f for each key of the mapping n (named ctx in messages),
// rejecting anything but a mapping of plain keys, and keys given twice.
func (d doc) fields(n *yaml.Node, ctx string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "%s: want a mapping (key: value), got %s", ctx, kindName(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, "%s: want a plain key, got %s", ctx, kindName(k))
		}
		if first, dup := seen[k.Value]; dup {
			return d.errf(k, "%s is set twice (first on line %d): keep one", QuoteName(join(ctx, k.Value)), first)
		}
		seen[k.Value] = k.Line
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func join(ctx, key string) string {
	if ctx == "" {
		return key
	}
	return ctx + "." + key
}

func (d doc) unknown(ctx string, k *yaml.Node) error {
	if ctx == "" {
		return d.errf(k, "unknown field %s", QuoteName(k.Value))
	}
	return d.errf(k, "unknown field %s in %s", QuoteName(k.Value), ctx)
}

// str reads a scalar as text; null is "". Numbers keep their spelling
// (build_args: {VERSION: 1.20} is "1.20").
func (d doc) str(n *yaml.Node, ctx string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.errf(n, "%s: want a single value, got %s", ctx, kindName(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	if err := validValue(n.Value); err != nil {
		return "", d.errf(n, "%s: %v", ctx, err)
	}
	return n.Value, nil
}

func (d doc) integer(n *yaml.Node, ctx string, min, max int) (int, error) {
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		return 0, d.errf(n, "%s: want a whole number, got %s", ctx, kindName(n))
	}
	if i < min || i > max {
		return 0, d.errf(n, "%s: %d is out of range: use %d to %d", ctx, i, min, max)
	}
	return i, nil
}

func (d doc) boolean(n *yaml.Node, ctx string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, d.errf(n, "%s: want true or false, got %s", ctx, kindName(n))
	}
	return b, nil
}

func (d doc) duration(n *yaml.Node, ctx string, min time.Duration) (time.Duration, error) {
	s, err := d.str(n, ctx)
	if err != nil {
		return 0, err
	}
	t, err := time.ParseDuration(s)
	if err != nil || t < min {
		return 0, d.errf(n, "%s: invalid duration %s: use e.g. 20m, 90s or 1h30m (at least %v)", ctx, QuoteName(s), min)
	}
	return t, nil
}

func (d doc) size(n *yaml.Node, ctx string) (int64, error) {
	s, err := d.str(n, ctx)
	if err != nil {
		return 0, err
	}
	b, ok := parseSize(s)
	if !ok {
		return 0, d.errf(n, "%s: invalid size %s: use bytes or a number with k, m or g, e.g. 256m or 2g", ctx, QuoteName(s))
	}
	return b, nil
}

// parseSize reads docker's sizes: 512, 512k, 256m, 2g (an optional trailing
// b, any case). Binary multiples, as docker uses.
func parseSize(s string) (int64, bool) {
	t := strings.ToLower(s)
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || t[0] == '+' || v > (1<<50)/mult {
		return 0, false
	}
	return v * mult, true
}

// strings reads a list of single values.
func (d doc) strings(n *yaml.Node, ctx string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, "%s: want a list, got %s", ctx, kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		s, err := d.str(e, ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// vars reads a mapping of environment-style names to values.
func (d doc) vars(n *yaml.Node, ctx string) (map[string]string, error) {
	out := map[string]string{}
	err := d.fields(n, ctx, func(key string, k, v *yaml.Node) error {
		if err := validEnvName(key); err != nil {
			return d.errf(k, "%s: %v", ctx, err)
		}
		s, err := d.str(v, join(ctx, key))
		if err != nil {
			return err
		}
		out[key] = s
		return nil
	})
	return out, err
}
