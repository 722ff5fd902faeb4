package render

// ValidApp reports whether name is a valid app name: ^[a-z][a-z0-9-]{0,62}$
// and not a reserved word. The one validator for app names in nap (hooks use
// it too). Its error says what to do.
func ValidApp(name string) error { panic("not implemented") }

// ValidRev reports whether rev is a full git object id (40 or 64 lower-case hex).
func ValidRev(rev string) error { panic("not implemented") }
