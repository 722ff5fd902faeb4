package deploy

import "github.com/nap-paas/nap/deploy/driver"

// The drivers live in package driver; these names keep deploy's API.
type (
	Driver    = driver.Driver
	UnitFile  = driver.UnitFile
	UnitState = driver.UnitState
	Systemd   = driver.Systemd
	Fleet     = driver.Fleet
)

// SameUnit reports whether two unit files hold the same options in the
// same order (driver.SameUnit).
func SameUnit(a, b []byte) bool { return driver.SameUnit(a, b) }
