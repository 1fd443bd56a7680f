{# Count and spend over a rolling window ending at each transaction. #}
{% macro rolling_count_and_spend(partition, time_column, width, suffix) -%}
  count(*) over ({{ rolling_window(partition, time_column, width) }}) as txn_count_{{ suffix }},
  sum(amount) over ({{ rolling_window(partition, time_column, width) }}) as spend_{{ suffix }}
{%- endmacro %}
