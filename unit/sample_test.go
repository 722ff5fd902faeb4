package unit

import "strings"

// sampleSet is a realistic release: a build unit, a run template and a
// discovery template, with a long inline script.
func sampleSet() []*File {
	const r = "0123456789ab"
	build := NewFile("myapp.build." + r + ".service")
	build.Section("Unit").Add("Description", Lit("Build myapp at "+r))
	build.Section("Unit").Add("After", Lit("docker.service")).Add("Requires", Lit("docker.service"))
	svc := build.Section("Service")
	svc.Add("Type", Lit("oneshot")).Add("RemainAfterExit", Lit("yes")).Add("TimeoutStartSec", Lit("20min"))
	svc.AddRaw("ExecStart", Exec("/usr/bin/docker", "build", "--build-arg", "VERSION=1.2 \"beta\"", "--build-arg", "GREETING=100% $USER",
		"-f", "Dockerfile", "-t", "127.0.0.1:5000/myapp:"+strings.Repeat("0123456789abcdef", 2)+"01234567", "/var/lib/nap/myapp/src/"+r))
	svc.AddRaw("ExecStart", Exec("/usr/bin/docker", "push", "127.0.0.1:5000/myapp:"+r))
	build.Section(FleetSection).Add("MachineID", Lit("0123456789abcdef0123456789abcdef"))

	run := NewFile("myapp.web." + r + "@.service")
	run.Section("Unit").Add("Description", Cat(Lit("myapp web "), Spec(Instance)))
	run.Section("Unit").Add("After", Lit("docker.service")).Add("Requires", Lit("docker.service"))
	svc = run.Section("Service")
	svc.AddRaw("Environment", Env("NAP_APP", Lit("myapp")))
	svc.Add("TimeoutStartSec", Lit("5min")).Add("Restart", Lit("on-failure")).Add("RestartSec", Lit("5s"))
	svc.AddRaw("ExecStartPre", ExecWords(IgnoreFailure, Lit("/usr/bin/docker"), Lit("rm"), Lit("-f"), Cat(Lit("myapp.web."+r+"."), Spec(Instance))))
	svc.AddRaw("ExecStartPre", Exec("/usr/bin/docker", "pull", "127.0.0.1:5000/myapp:"+r))
	svc.AddRaw("ExecStart", ExecWords(0, Lit("/usr/bin/docker"), Lit("run"), Lit("--rm"), Lit("--name"), Cat(Lit("myapp.web."+r+"."), Spec(Instance)),
		Lit("-p"), Lit("8080"), Lit("-e"), Lit("NAP_APP=myapp"), Lit("-e"), Cat(Lit("NAP_INSTANCE="), Spec(Instance)), Lit("-e"), Lit("LOG_LEVEL=debug; rm -rf / $HOME %n"),
		Lit("127.0.0.1:5000/myapp:"+r), Lit("/app"), Lit("-worker")))
	svc.AddRaw("ExecStop", ExecWords(0, Lit("/usr/bin/docker"), Lit("stop"), Cat(Lit("myapp.web."+r+"."), Spec(Instance))))
	run.Section(FleetSection).Add("Conflicts", Lit("myapp.web."+r+"@*.service"))

	disc := NewFile("myapp.web." + r + ".discovery@.service")
	unit := disc.Section("Unit")
	unit.Add("Description", Cat(Lit("announce myapp web "), Spec(Instance)))
	unit.Add("BindsTo", Cat(Lit("myapp.web."+r+"@"), Spec(Instance), Lit(".service")))
	unit.Add("After", Cat(Lit("myapp.web."+r+"@"), Spec(Instance), Lit(".service")))
	script := strings.Repeat(`key=/services/myapp/web/`+r+`.$1; trap 'etcdctl rm "$key"; exit 0' TERM; `, 20) +
		`while :; do port=$(docker port "myapp.web.` + r + `.$1" 8080/tcp | sed 's/.*://'); etcdctl set --ttl 60 "$key" "{\"host\":\"$2\",\"port\":$port}"; sleep 20 & wait; done`
	disc.Section("Service").AddRaw("ExecStart", ExecWords(0, Lit("/bin/sh"), Lit("-c"), Lit(script), Lit("sh"), Spec(Instance), Spec(Host)))
	disc.Section("Install").Add("WantedBy", Cat(Lit("myapp.web."+r+"@"), Spec(Instance), Lit(".service")))
	disc.Section(FleetSection).Add("MachineOf", Cat(Lit("myapp.web."+r+"@"), Spec(Instance), Lit(".service")))
	return []*File{build, run, disc}
}
