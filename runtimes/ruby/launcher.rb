# Ledgerwhisk's Ruby launcher: loads the action (ARGV[0]) and calls its main
# function (ARGV[1]) once per activation, speaking OpenWhisk's actionloop
# protocol with the proxy: one JSON line per activation on stdin, one answer
# line on file descriptor 3, {"result": ...}; an exception is {"result": {"error": message}}.
require 'json'

$stdout.sync = true
$stderr.sync = true
answers = IO.new(3, 'w')
answers.sync = true
source, main_name = ARGV

def init_failed(answers, message)
  answers.puts(JSON.generate({ 'error' => "Initialization has failed due to: #{message}" }))
  exit 1
end

begin
  load source
rescue Exception => e # rubocop:disable Lint/RescueException
  $stderr.puts(e.full_message(highlight: false))
  # The message's first line only: Ruby's error_highlight appends the failing
  # source line and a caret to a NameError's message, which belong in the logs.
  init_failed(answers, "#{e.class}: #{e.message.lines.first.to_s.chomp}")
end
unless Object.private_method_defined?(main_name) || Object.method_defined?(main_name)
  init_failed(answers, "The action has no function named '#{main_name}'.")
end
answers.puts(JSON.generate({ 'ok' => true })) unless ENV['__OW_WAIT_FOR_ACK'].to_s.empty?

while (line = $stdin.gets)
  body = JSON.parse(line)
  body.each do |key, value|
    next if key == 'value'
    ENV["__OW_#{key.upcase}"] = value.is_a?(String) ? value : JSON.generate(value)
  end
  # An Array value (a sequence passing an array result on) reaches main as it is,
  # and main may return a Hash or an Array, as OpenWhisk's Ruby runtime allows.
  args = body['value'].is_a?(Hash) || body['value'].is_a?(Array) ? body['value'] : {}
  answer =
    begin
      result = send(main_name, args)
      text = result.is_a?(Hash) || result.is_a?(Array) ? JSON.generate({ 'result' => result }) : nil
      $stderr.puts("The action returned #{result.class}, not a Hash or an Array.") if text.nil?
      text || JSON.generate({ 'result' => nil })
    rescue Exception => e # rubocop:disable Lint/RescueException
      # As OpenWhisk's Ruby runtime (launcher.rb): the exception's message is
      # the result's error, an application error; the trace goes to the logs.
      $stderr.puts(e.full_message(highlight: false))
      JSON.generate({ 'result' => { 'error' => e.to_s } })
    end
  $stdout.flush
  $stderr.flush
  answers.puts(answer)
end
