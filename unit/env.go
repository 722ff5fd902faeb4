package unit

// Env returns an Environment= value assigning value to name, quoted by
// systemd's rules. The name must match [A-Za-z_][A-Za-z0-9_]*; Marshal
// rejects a value holding an invalid name.
func Env(name string, value Text) string { panic("not implemented") }
