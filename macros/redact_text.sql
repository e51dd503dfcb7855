{#-
    GENERATED from python_jobs/text/redact.py (RULES) by `python -m python_jobs.text.redact`; do not edit.
    The SQL twin of python_jobs.text.redact.redact(): replaces emails, card-like numbers and phone numbers
    in a text expression by [EMAIL], [CARD] and [PHONE]; null stays null.
    Rules in order: drop_marker, email, keep_date_ymd x2, keep_date_dmy x2, card x2, phone x2, drop_date_marker.
-#}
{% macro redact_text(expr) -%}
    {{ return(adapter.dispatch('redact_text')(expr)) }}
{%- endmacro %}

{% macro default__redact_text(expr) -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(
                            regexp_replace(
                                regexp_replace(
                                    regexp_replace(
                                        regexp_replace(
                                            regexp_replace(
                                                {{ expr }},
                                                chr(57344), '', 'g'
                                            ),
                                            '[A-Za-z0-9_.+-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+', '[EMAIL]', 'g'
                                        ),
                                        '(^|[^0-9])([0-9]{4})([-.])([0-9]{1,2})([-.])([0-9]{1,2})([^0-9]|$)', '\1\2' || chr(57344) || '\3\4' || chr(57344) || '\5\6\7', 'g'
                                    ),
                                    '(^|[^0-9])([0-9]{4})([-.])([0-9]{1,2})([-.])([0-9]{1,2})([^0-9]|$)', '\1\2' || chr(57344) || '\3\4' || chr(57344) || '\5\6\7', 'g'
                                ),
                                '(^|[^0-9])([0-9]{1,2})([-.])([0-9]{1,2})([-.])([0-9]{4})([^0-9]|$)', '\1\2' || chr(57344) || '\3\4' || chr(57344) || '\5\6\7', 'g'
                            ),
                            '(^|[^0-9])([0-9]{1,2})([-.])([0-9]{1,2})([-.])([0-9]{4})([^0-9]|$)', '\1\2' || chr(57344) || '\3\4' || chr(57344) || '\5\6\7', 'g'
                        ),
                        '(^|[^0-9])(?:[0-9][ -]?){12,18}[0-9]([^0-9]|$)', '\1[CARD]\2', 'g'
                    ),
                    '(^|[^0-9])(?:[0-9][ -]?){12,18}[0-9]([^0-9]|$)', '\1[CARD]\2', 'g'
                ),
                '(^|[^0-9A-Za-z+])(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{1,4}\)[ .-]?)?[0-9](?:[ .-]?[0-9]){6,13}([^0-9A-Za-z]|$)', '\1[PHONE]\2', 'g'
            ),
            '(^|[^0-9A-Za-z+])(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{1,4}\)[ .-]?)?[0-9](?:[ .-]?[0-9]){6,13}([^0-9A-Za-z]|$)', '\1[PHONE]\2', 'g'
        ),
        chr(57344), '', 'g'
    )
{%- endmacro %}

{% macro spark__redact_text(expr) -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(
                            regexp_replace(
                                regexp_replace(
                                    regexp_replace(
                                        regexp_replace(
                                            regexp_replace(
                                                {{ expr }},
                                                '\uE000', ''
                                            ),
                                            '[A-Za-z0-9_.+-]+@[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)+', '[EMAIL]'
                                        ),
                                        '(^|[^0-9])([0-9]{4})([-.])([0-9]{1,2})([-.])([0-9]{1,2})([^0-9]|$)', '$1$2\uE000$3$4\uE000$5$6$7'
                                    ),
                                    '(^|[^0-9])([0-9]{4})([-.])([0-9]{1,2})([-.])([0-9]{1,2})([^0-9]|$)', '$1$2\uE000$3$4\uE000$5$6$7'
                                ),
                                '(^|[^0-9])([0-9]{1,2})([-.])([0-9]{1,2})([-.])([0-9]{4})([^0-9]|$)', '$1$2\uE000$3$4\uE000$5$6$7'
                            ),
                            '(^|[^0-9])([0-9]{1,2})([-.])([0-9]{1,2})([-.])([0-9]{4})([^0-9]|$)', '$1$2\uE000$3$4\uE000$5$6$7'
                        ),
                        '(^|[^0-9])(?:[0-9][ -]?){12,18}[0-9]([^0-9]|$)', '$1[CARD]$2'
                    ),
                    '(^|[^0-9])(?:[0-9][ -]?){12,18}[0-9]([^0-9]|$)', '$1[CARD]$2'
                ),
                '(^|[^0-9A-Za-z+])(?:\\+[0-9]{1,3}[ .-]?)?(?:\\([0-9]{1,4}\\)[ .-]?)?[0-9](?:[ .-]?[0-9]){6,13}([^0-9A-Za-z]|$)', '$1[PHONE]$2'
            ),
            '(^|[^0-9A-Za-z+])(?:\\+[0-9]{1,3}[ .-]?)?(?:\\([0-9]{1,4}\\)[ .-]?)?[0-9](?:[ .-]?[0-9]){6,13}([^0-9A-Za-z]|$)', '$1[PHONE]$2'
        ),
        '\uE000', ''
    )
{%- endmacro %}
