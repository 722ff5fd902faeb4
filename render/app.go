package render

import (
	"fmt"
	"path"
	"sort"

	"gopkg.in/yaml.v3"
)

// minMemory is docker's smallest --memory.
const minMemory = 6 << 20

func parseApp(file string, data []byte, cfg *Config) error {
	app := &cfg.App
	op := &cfg.Operator
	*app = App{Dockerfile: "Dockerfile", Context: ".", Processes: map[string]Process{}}
	d := doc{file}
	root, err := d.root(data)
	if err != nil {
		return err
	}
	var shorthand *yaml.Node // the top-level instances, if set
	var shorthandN int
	if root != nil {
		err = d.fields(root, "", func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "instances":
				shorthand = k
				shorthandN, err = d.integer(v, key, 1, op.Limits.MaxInstances)
			case "dockerfile", "context":
				var s string
				if s, err = d.str(v, key); err != nil {
					return err
				}
				if s, err = repoPath(s, key == "context"); err != nil {
					return d.errf(v, "%s: %v", key, err)
				}
				cfg.where[key] = v.Line
				if key == "context" {
					app.Context = s
				} else {
					app.Dockerfile = s
				}
			case "stage":
				if app.Stage, err = d.str(v, key); err == nil && app.Stage != "" {
					if verr := validStage(app.Stage); verr != nil {
						err = d.errf(v, "stage: %v", verr)
					}
				}
			case "build_args":
				if app.BuildArgs, err = d.vars(v, key); err == nil {
					err = d.checkVarsLimit(k, key, app.BuildArgs, op.Limits)
				}
			case "env":
				if app.Env, err = d.vars(v, key); err == nil {
					if err = d.checkEnv(v); err == nil {
						err = d.checkVarsLimit(k, key, app.Env, op.Limits)
					}
				}
			case "memory":
				if app.Memory, err = d.size(v, key); err != nil {
					return err
				}
				if app.Memory < minMemory {
					return d.errf(v, "memory: below docker's minimum of 6m")
				}
				if app.Memory > op.Limits.MaxMemory {
					return d.errf(v, "memory: more than this host allows (limits.max_memory = %s)", FormatSize(op.Limits.MaxMemory))
				}
			case "cpu_shares":
				app.CPUShares, err = d.integer(v, key, 2, 262144)
			case "machine":
				err = d.fields(v, key, func(key string, k, v *yaml.Node) error {
					if key != "metadata" {
						return d.unknown("machine", k)
					}
					return d.metadata(v, op.Machines.AllowedMetadata, app)
				})
			case "processes":
				err = d.processes(v, cfg)
			default:
				if operatorFields[key] {
					return d.errf(k, "%s is set by the operator: remove it from %s", QuoteName(key), file)
				}
				return d.unknown("", k)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	web, ok := app.Processes["web"]
	if !ok {
		web = Process{Instances: 1}
	}
	if shorthand != nil {
		if cfg.where["processes.web.instances"] > 0 {
			return d.errf(shorthand, `"instances" and processes.web.instances are both set: keep one`)
		}
		web.Instances = shorthandN
	}
	app.Processes["web"] = web
	return nil
}

// checkEnv rejects the names nap sets itself (PORT may be overridden).
func (d doc) checkEnv(n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; isNapEnv(k.Value) {
			return d.errf(k, "env: %s is set by nap: choose another name", QuoteName(k.Value))
		}
	}
	return nil
}

func isNapEnv(name string) bool { return len(name) >= 4 && name[:4] == "NAP_" }

func (d doc) metadata(n *yaml.Node, allowed []string, app *App) error {
	list, err := d.strings(n, "machine.metadata")
	if err != nil {
		return err
	}
	for i, m := range list {
		if err := validMetadata(m); err != nil {
			return d.errf(n.Content[i], "machine.metadata: %v", err)
		}
		if !contains(allowed, m) {
			if len(allowed) == 0 {
				return d.errf(n.Content[i], "machine.metadata: %s is not allowed: this host allows no machine metadata", QuoteName(m))
			}
			return d.errf(n.Content[i], "machine.metadata: %s is not allowed: use one of %v", QuoteName(m), allowed)
		}
		if contains(list[:i], m) {
			return d.errf(n.Content[i], "machine.metadata: %s is listed twice", QuoteName(m))
		}
	}
	sorted := append([]string(nil), list...)
	sort.Strings(sorted)
	app.Metadata = sorted
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (d doc) processes(n *yaml.Node, cfg *Config) error {
	if max := cfg.Operator.Limits.MaxProcesses; n.Kind == yaml.MappingNode && len(n.Content)/2 > max {
		return d.errf(n, "processes: %d processes; this host allows %d per app (limits.max_processes)", len(n.Content)/2, max)
	}
	return d.fields(n, "processes", func(name string, k, v *yaml.Node) error {
		if err := validProcess(name); err != nil {
			return d.errf(k, "processes: %v", err)
		}
		ctx := "processes." + name
		p := Process{Instances: 1}
		err := d.fields(v, ctx, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "command":
				if p.Command, err = d.strings(v, ctx+".command"); err == nil && len(p.Command) == 0 {
					err = d.errf(v, "%s.command: give at least the program, e.g. [\"/app\", \"-worker\"]", ctx)
				}
			case "instances":
				cfg.where[ctx+".instances"] = k.Line
				p.Instances, err = d.integer(v, ctx+".instances", 1, cfg.Operator.Limits.MaxInstances)
			case "ports":
				if v.Kind != yaml.SequenceNode {
					return d.errf(v, "%s.ports: want a list of container ports, e.g. [8080]", ctx)
				}
				p.Ports = []int{}
				for i, e := range v.Content {
					port, err := d.integer(e, ctx+".ports", 1, 65535)
					if err != nil {
						return err
					}
					for _, q := range p.Ports {
						if q == port {
							return d.errf(e, "%s.ports: %d is listed twice", ctx, port)
						}
					}
					p.Ports = append(p.Ports, port)
					cfg.where[fmt.Sprintf("%s.ports.%d", ctx, i)] = e.Line
				}
			default:
				return d.unknown(ctx, k)
			}
			return err
		})
		cfg.App.Processes[name] = p
		return err
	})
}

// repoPath cleans a path inside the repository, refusing one that leaves it.
func repoPath(s string, dir bool) (string, error) {
	if s == "" {
		if dir {
			return ".", nil
		}
		return "", fmt.Errorf("give a path inside the repository, e.g. Dockerfile")
	}
	if path.IsAbs(s) || s[0] == '\\' {
		return "", fmt.Errorf("%s is absolute: give a path inside the repository", QuoteName(s))
	}
	c := path.Clean(s)
	if c == ".." || len(c) > 2 && c[:3] == "../" {
		return "", fmt.Errorf("%s leaves the repository: give a path inside it", QuoteName(s))
	}
	if c == "." && !dir {
		return "", fmt.Errorf("%s is the repository itself: name the Dockerfile", QuoteName(s))
	}
	for _, r := range c {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", fmt.Errorf("%s holds a control character or backslash", QuoteName(s))
		}
	}
	return c, nil
}
