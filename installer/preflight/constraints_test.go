package preflight

import "testing"

func TestNodeMajorFor(t *testing.T) {
	tests := []struct {
		engine string
		want   int
	}{
		{"", 18},
		{">=15.x <17", 16},
		{">=18.x", 18},
		{">=14.x", 18},
		{"^16.13.0", 16},
		{"20.x", 20},
		{">= 18 <19 || 20.x", 18},
		{"~16.20", 16},
		{">=20.0.0", 20},
		{">18.x", 20},
	}
	for _, tt := range tests {
		got, err := NodeMajorFor(tt.engine)
		if err != nil {
			t.Errorf("NodeMajorFor(%q): %v", tt.engine, err)
			continue
		}
		if got != tt.want {
			t.Errorf("NodeMajorFor(%q) = %d, want %d", tt.engine, got, tt.want)
		}
	}
	for _, bad := range []string{">=99", "banana"} {
		if _, err := NodeMajorFor(bad); err == nil {
			t.Errorf("NodeMajorFor(%q) = nil error, want one", bad)
		}
	}
}

func TestCheckTable(t *testing.T) {
	tests := []struct {
		name, v string
		want    bool
	}{
		{"docker", "20.10.24+dfsg1", true},
		{"docker", "19.03.15", false},
		{"compose-v1", "docker-compose version 1.29.2, build unknown", true},
		{"compose-v1", "1.25.0", false},
		{"compose-v2", "v2.24.6", true},
		{"postgres", "15.8", true},
		{"postgres", "12.19", false},
		{"postgres", "17.2", true},
		{"postgres", "18.1", false},
		{"node", "v20.20.2", true},
		{"node", "v14.21.3", false},
		{"yarn", "1.22.19", true},
	}
	for _, tt := range tests {
		got, err := Satisfies(tt.name, tt.v)
		if err != nil || got != tt.want {
			t.Errorf("Satisfies(%s, %s) = %v, %v; want %v", tt.name, tt.v, got, err, tt.want)
		}
	}
}
