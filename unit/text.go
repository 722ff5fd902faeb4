package unit

import "strings"

// Text is a unit-file value under construction: literal text and specifiers,
// kept apart by type so that user text can never become a specifier.
// The zero Text is empty.
type Text struct{ raw string }

// Specifier is a systemd specifier nap means to use.
type Specifier byte

// The specifiers nap uses. Fleet substitutes only %n %N %p %i in [X-Fleet].
const (
	Host         Specifier = 'H' // the host name
	Instance     Specifier = 'i' // the instance name (escaped form)
	FullName     Specifier = 'n' // the full unit name
	Prefix       Specifier = 'p' // the prefix name
	UnescapedIns Specifier = 'I' // the instance name, unescaped
)

// Lit is literal text: every '%' is escaped so systemd reads s exactly.
func Lit(s string) Text { return Text{raw: strings.ReplaceAll(s, "%", "%%")} }

// Spec is a specifier.
func Spec(sp Specifier) Text { return Text{raw: "%" + string(rune(sp))} }

// Cat joins texts.
func Cat(ts ...Text) Text {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.raw)
	}
	return Text{raw: b.String()}
}

// String returns the value in unit-file syntax.
func (t Text) String() string { return t.raw }
