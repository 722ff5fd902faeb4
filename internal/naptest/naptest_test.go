package naptest

import "testing"

func TestWithoutBuildOutput(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"built",
			"remote: -----> Deploying x\nremote: -----> Building abc (u)\nremote: -----> Step 1/2\nremote: -----> Step 2/2\nremote: -----> Built abc\nremote: -----> Switched\n",
			"remote: -----> Deploying x\nremote: -----> Building abc (u)\nremote: -----> [2 lines of build output]\nremote: -----> Built abc\nremote: -----> Switched\n"},
		{"failed build kept whole",
			"remote: -----> Building abc (u)\nremote: -----> Step 1/2\nremote: nap-render deploy: build failed\n",
			"remote: -----> Building abc (u)\nremote: -----> Step 1/2\nremote: nap-render deploy: build failed\n"},
		{"no build", "remote: -----> abc was built before\nTo host\n", "remote: -----> abc was built before\nTo host\n"},
	} {
		if got := WithoutBuildOutput(tc.in); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
