package render

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// operatorFields are the top-level keys of the operator config; nap.yaml
// setting one of them is told so.
var operatorFields = map[string]bool{
	"registry": true, "registry_insecure": true, "target": true, "docker": true, "etcdctl": true, "nap_render": true, "state": true,
	"unit_dir": true, "deploy_branch": true, "keep_releases": true, "build_timeout": true,
	"drain": true, "env_dir": true, "discovery": true, "fleet": true, "builder": true,
	"machines": true, "limits": true, "router": true,
}

func parseOperator(file string, data []byte, op *Operator) error {
	d := doc{file}
	root, err := d.root(data)
	if root == nil {
		return err
	}
	check := d.check
	return d.fields(root, "", func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "registry":
			return check(v, key, &op.Registry, validRegistry)
		case "registry_insecure":
			op.RegistryInsecure, err = d.boolean(v, key)
		case "target":
			var s string
			if err := check(v, key, &s, validTarget); err != nil {
				return err
			}
			op.Target = Target(s)
		case "docker":
			return check(v, key, &op.Docker, validAbs)
		case "etcdctl":
			return check(v, key, &op.Etcdctl, validAbs)
		case "nap_render":
			return check(v, key, &op.NapRender, validAbs)
		case "state":
			return check(v, key, &op.State, validAbs)
		case "unit_dir":
			return check(v, key, &op.UnitDir, validAbs)
		case "env_dir":
			return check(v, key, &op.EnvDir, validAbsOrEmpty)
		case "deploy_branch":
			return check(v, key, &op.DeployBranch, validBranch)
		case "keep_releases":
			op.KeepReleases, err = d.integer(v, key, 1, 1000)
		case "build_timeout":
			op.BuildTimeout, err = d.duration(v, key, time.Second)
		case "drain":
			op.Drain, err = d.duration(v, key, 0)
		case "discovery":
			err = d.discovery(v, &op.Discovery)
		case "fleet":
			err = d.fields(v, key, func(key string, k, v *yaml.Node) error {
				ctx := "fleet." + key
				switch key {
				case "endpoint":
					return check(v, ctx, &op.Fleet.Endpoint, validFleetWord)
				case "tunnel":
					return check(v, ctx, &op.Fleet.Tunnel, validFleetWord)
				case "driver":
					return check(v, ctx, &op.Fleet.Driver, validFleetDriver)
				}
				return d.unknown("fleet", k)
			})
		case "builder":
			err = d.fields(v, key, func(key string, k, v *yaml.Node) error {
				if key == "machine_id" {
					return check(v, "builder.machine_id", &op.Builder.MachineID, validMachineIDOrEmpty)
				}
				return d.unknown("builder", k)
			})
		case "machines":
			err = d.fields(v, key, func(key string, k, v *yaml.Node) error {
				if key != "allowed_metadata" {
					return d.unknown("machines", k)
				}
				list, err := d.strings(v, "machines.allowed_metadata")
				if err != nil {
					return err
				}
				for i, m := range list {
					if err := validMetadata(m); err != nil {
						return d.errf(v.Content[i], "machines.allowed_metadata: %v", err)
					}
				}
				op.Machines.AllowedMetadata = list
				return nil
			})
		case "limits":
			err = d.fields(v, key, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "max_instances":
					op.Limits.MaxInstances, err = d.integer(v, "limits.max_instances", 1, 10000)
				case "max_memory":
					op.Limits.MaxMemory, err = d.size(v, "limits.max_memory")
					if err == nil && op.Limits.MaxMemory < minMemory {
						err = d.errf(v, "limits.max_memory: below docker's minimum of 6m")
					}
				case "max_ports":
					op.Limits.MaxPorts, err = d.integer(v, "limits.max_ports", 1, 65535)
				case "max_env":
					op.Limits.MaxEnv, err = d.integer(v, "limits.max_env", 1, 10000)
				case "max_processes":
					op.Limits.MaxProcesses, err = d.integer(v, "limits.max_processes", 1, 1000)
				case "max_tree":
					op.Limits.MaxTree, err = d.size(v, "limits.max_tree")
				case "max_files":
					op.Limits.MaxFiles, err = d.integer(v, "limits.max_files", 1, 100000000)
				default:
					return d.unknown("limits", k)
				}
				return err
			})
		case "router":
			err = d.router(v, &op.Router)
		default:
			return d.unknown("", k)
		}
		return err
	})
}

func (d doc) router(n *yaml.Node, r *Router) error {
	err := d.fields(n, "router", func(key string, k, v *yaml.Node) error {
		ctx := "router." + key
		var err error
		switch key {
		case "domain":
			return d.check(v, ctx, &r.Domain, validDomain)
		case "http":
			r.HTTP, err = d.integer(v, ctx, 1, 65535)
		case "https":
			r.HTTPS, err = d.integer(v, ctx, 0, 65535)
		case "tls_cert":
			return d.check(v, ctx, &r.TLSCert, validNginxPath)
		case "tls_key":
			return d.check(v, ctx, &r.TLSKey, validNginxPath)
		case "nginx":
			return d.check(v, ctx, &r.Nginx, validNginxPath)
		case "conf":
			return d.check(v, ctx, &r.Conf, validNginxPath)
		default:
			return d.unknown("router", k)
		}
		return err
	})
	if err == nil {
		if cerr := r.Check(); cerr != nil {
			err = d.errf(n, "%v", cerr)
		}
	}
	return err
}

func (d doc) discovery(n *yaml.Node, ds *Discovery) error {
	return d.fields(n, "discovery", func(key string, k, v *yaml.Node) error {
		ctx := "discovery." + key
		var err error
		switch key {
		case "etcd":
			return d.check(v, ctx, &ds.Etcd, func(s string) error {
				if s != "v2" && s != "v3" {
					return fmt.Errorf("%s: use v2 or v3", QuoteName(s))
				}
				return nil
			})
		case "prefix":
			return d.check(v, ctx, &ds.Prefix, validPrefix)
		case "ttl":
			// The sidekick refreshes within TTL/3 whole seconds.
			ds.TTL, err = d.integer(v, ctx, 3, 86400)
		case "host":
			return d.check(v, ctx, &ds.Host, validDiscoveryHost)
		case "env_file":
			return d.check(v, ctx, &ds.EnvFile, validAbs)
		case "endpoints":
			var list []string
			if list, err = d.strings(v, ctx); err != nil {
				return err
			}
			if len(list) == 0 {
				return d.errf(v, "%s: list at least one etcd endpoint, e.g. http://127.0.0.1:2379", ctx)
			}
			for i, e := range list {
				if verr := validEndpoint(e); verr != nil {
					return d.errf(v.Content[i], "%s: %v", ctx, verr)
				}
			}
			ds.Endpoints = list
		default:
			return d.unknown("discovery", k)
		}
		return err
	})
}

// check reads the single value v of field ctx into dst when valid accepts
// it, and reports a rejection at v's line.
func (d doc) check(v *yaml.Node, ctx string, dst *string, valid func(string) error) error {
	s, err := d.str(v, ctx)
	if err != nil {
		return err
	}
	if err := valid(s); err != nil {
		return d.errf(v, "%s: %v", ctx, err)
	}
	*dst = s
	return nil
}
