-- History before the view's start point, one month of one CDC table at a time, through
-- the same rollup view as live events (the rows pass post_metrics_1h_mv / user_author_90d_mv).
INSERT INTO {{events}}
{{select}};
