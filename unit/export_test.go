package unit

// SampleSet exposes the realistic release to the external tests that hand it
// to systemd (internal/sandbox imports unit, so they cannot live in package unit).
var SampleSet = sampleSet
