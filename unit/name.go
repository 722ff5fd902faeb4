package unit

// ValidName reports whether name is a unit name nap may emit and both systemd
// and fleet accept: [A-Za-z0-9:_.@-], at most 256 bytes, a known unit type
// suffix, not starting with '@', templates "p@.service", instances
// "p@i.service". Returns a descriptive error.
func ValidName(name string) error { panic("not implemented") }
