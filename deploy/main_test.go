package deploy

import (
	"os"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
)

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }
