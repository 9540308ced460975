# The diamond: one source, two independent branches, one join.
#   start -> left  -\
#         -> right -/-> join
AxlWorkflow diamond {
    Parameter Base -Default 10

    Step start { param($Base) $Base }
    Step left { param([int] $start) $start + 1 }
    Step right { param([int] $start) $start * 2 }
    Step join { param($left, $right) $left + $right }
}
