#!/bin/sh
# plot.sh DATA SVG TITLE: the bench table as a picture, with gnuplot.  One
# panel per figure, one bar per server; where a figure is bounded by the
# host's fork floor (sessions/s, server CPU per session) the floor is drawn
# across the panel as a dashed line.  DATA comes from report.awk mode=data:
#   "label" socks5d sockd microsocks direct floor   (NaN: no value)
set -eu
data=$1 svg=$2 title=$3
n=$(wc -l <"$data")
[ "$n" -gt 0 ] || { echo "plot.sh: no data" >&2; exit 1; }
cols=4
rows=$(((n + cols - 1) / cols))
{
	echo "set terminal svg size $((cols * 330)),$((rows * 250 + 40)) font 'sans,10' dynamic"
	echo "set output '$svg'"
	echo "set multiplot layout $rows,$cols title \"$title\" font 'sans,13'"
	echo "set style fill solid 0.8 border -1"
	echo "set boxwidth 0.6"
	echo "set xrange [-0.6:3.6]"
	echo "set yrange [0:*]"
	echo "set grid ytics"
	echo "set key top right font 'sans,8'"
	echo "set xtics ('socks5d' 0, 'sockd' 1, 'microsocks' 2, 'direct' 3) font 'sans,8'"
	echo "set linetype 1 lc rgb '#1f77b4'"
	i=0
	while IFS= read -r line; do
		i=$((i + 1))
		label=$(printf '%s\n' "$line" | sed 's/^"\([^"]*\)".*/\1/')
		set -- $(printf '%s\n' "$line" | sed 's/^"[^"]*" //')
		echo "\$d$i << EOD"
		echo "0 $1"
		echo "1 $2"
		echo "2 $3"
		echo "3 $4"
		echo "EOD"
		echo "set title \"$label\" font 'sans,10'"
		if [ "$5" != NaN ]; then
			printf '$f%s << EOD\n-0.6 %s\n3.6 %s\nEOD\n' "$i" "$5" "$5"
			echo "plot \$d$i using 1:2 with boxes lc rgb '#4477aa' notitle, \$f$i using 1:2 with lines dt 2 lw 2 lc rgb '#cc3311' title 'fork floor'"
		else
			echo "plot \$d$i using 1:2 with boxes lc rgb '#4477aa' notitle"
		fi
	done <"$data"
	echo "unset multiplot"
} | gnuplot
