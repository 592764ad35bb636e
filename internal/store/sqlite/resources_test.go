package sqlite

import (
	"slices"
	"testing"
)

func TestPositional(t *testing.T) {
	for _, tc := range []struct {
		sql      string
		args     []any
		wantSQL  string
		wantArgs []any
	}{
		{"SELECT 1", nil, "SELECT 1", nil},
		{"SELECT ?, ?", []any{1, 2}, "SELECT ?, ?", []any{1, 2}},
		{"a = $1 AND b = $2", []any{"x", "y"}, "a = ? AND b = ?", []any{"x", "y"}},
		{"b = $2 AND a = $1", []any{"x", "y"}, "b = ? AND a = ?", []any{"y", "x"}},
		{"t = $1 AND u.t = $1 AND v IN ($10, $2)", []any{"t", "2", 3, 4, 5, 6, 7, 8, 9, "ten"},
			"t = ? AND u.t = ? AND v IN (?, ?)", []any{"t", "t", "ten", "2"}},
		{"x LIKE $1 ESCAPE '\\'", []any{"%a%"}, "x LIKE ? ESCAPE '\\'", []any{"%a%"}},
	} {
		sql, args := positional(tc.sql, tc.args)
		if sql != tc.wantSQL || !slices.Equal(args, tc.wantArgs) {
			t.Errorf("positional(%q, %v) = %q, %v; want %q, %v", tc.sql, tc.args, sql, args, tc.wantSQL, tc.wantArgs)
		}
	}
}
