// Ledgerwhisk's Java launcher: loads the action's classes (args[0], a directory
// of classes or an unpacked jar) and calls `public static JsonObject
// main(JsonObject)` of the class args[1] ("com.example.Hello", or
// "com.example.Hello#method") once per activation, as OpenWhisk's Java runtime
// does; as its array results (core/java8actionloop Launcher.java), an array
// value (a sequence passing an array result on) calls `main(JsonArray)`
// instead, and main may return a JsonObject or a JsonArray. It speaks OpenWhisk's actionloop protocol with the proxy: one JSON
// line per activation on stdin, one answer line on file descriptor 3,
// {"result": ...} or {"thrown": "java.lang.RuntimeException: ..."}.
// The __OW_* keys of each activation are put into System.getenv() (the JVM
// reads its environment once; the map is opened with --add-opens).
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.Map;

public final class Launcher {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    private static final String INVOKE_FAILED =
            "An error has occurred while invoking the action (see logs for details): ";
    private static final String FAILED = "An error has occurred (see logs for details): ";

    private static void answer(OutputStream out, JsonObject answer) throws Exception {
        System.out.flush();
        System.err.flush();
        out.write((GSON.toJson(answer) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @SuppressWarnings("unchecked")
    private static void putEnv(String key, String value) {
        try {
            Map<String, String> env = System.getenv();
            Field field = env.getClass().getDeclaredField("m");
            field.setAccessible(true);
            ((Map<String, String>) field.get(env)).put(key, value);
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.println("Cannot set " + key + " in the environment: " + e);
        }
    }

    private static JsonObject message(String key, String text) {
        JsonObject object = new JsonObject();
        object.addProperty(key, text);
        return object;
    }

    private static Method[] load(String classes, String main) throws Exception {
        String className = main;
        String methodName = "main";
        int hash = main.indexOf('#');
        if (hash >= 0) {
            className = main.substring(0, hash);
            methodName = main.substring(hash + 1);
        }
        URL[] urls = {new File(classes).toURI().toURL()};
        ClassLoader loader = new URLClassLoader(urls, Launcher.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> cls;
        try {
            cls = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("The action has no class named '" + className + "'.");
        }
        Method forObject = lookup(cls, methodName, JsonObject.class);
        Method forArray = lookup(cls, methodName, JsonArray.class);
        if (forObject == null && forArray == null) {
            throw new IllegalArgumentException("The action's class " + className
                + " has no method 'public static JsonObject " + methodName + "(JsonObject)'.");
        }
        for (Method method : new Method[] {forObject, forArray}) {
            if (method != null && !Modifier.isStatic(method.getModifiers())) {
                throw new IllegalArgumentException("The action's method " + methodName + " is not static.");
            }
        }
        return new Method[] {forObject, forArray};
    }

    private static Method lookup(Class<?> cls, String name, Class<?> parameter) {
        try {
            return cls.getMethod(name, parameter);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    public static void main(String[] args) throws Exception {
        OutputStream out = new FileOutputStream("/proc/self/fd/3");
        System.setOut(new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8));
        Method[] mains;
        try {
            mains = load(args[0], args[1]);
        } catch (Throwable e) {
            Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            cause.printStackTrace();
            String text = cause instanceof IllegalArgumentException ? cause.getMessage() : cause.toString();
            answer(out, message("error", "Initialization has failed due to: " + text));
            System.exit(1);
            return;
        }
        String ack = System.getenv("__OW_WAIT_FOR_ACK");
        if (ack != null && !ack.isEmpty()) {
            JsonObject ok = new JsonObject();
            ok.addProperty("ok", true);
            answer(out, ok);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            JsonObject body = JsonParser.parseString(line).getAsJsonObject();
            JsonElement params = new JsonObject();
            for (Map.Entry<String, JsonElement> entry : body.entrySet()) {
                JsonElement value = entry.getValue();
                if (entry.getKey().equals("value")) {
                    if (value.isJsonObject() || value.isJsonArray()) {
                        params = value;
                    }
                    continue;
                }
                String text = value.isJsonPrimitive() && value.getAsJsonPrimitive().isString()
                    ? value.getAsString() : GSON.toJson(value);
                putEnv("__OW_" + entry.getKey().toUpperCase(), text);
            }
            JsonObject reply = new JsonObject();
            try {
                Method method = params.isJsonArray() ? mains[1] : mains[0];
                if (method == null) {
                    throw new NoSuchMethodException(args[1] + "(" + params.getClass().getName() + ")");
                }
                Object result = method.invoke(null, params);
                if (result instanceof JsonObject || result instanceof JsonArray) {
                    reply.add("result", (JsonElement) result);
                } else {
                    System.err.println("The action returned " + result + ", not a JsonObject or JsonArray.");
                    reply.add("result", null);
                }
            } catch (InvocationTargetException e) {
                // OpenWhisk's Java runtime (Proxy.java) words a failed run so.
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                cause.printStackTrace();
                reply = message("thrown", INVOKE_FAILED + cause);
            } catch (Throwable e) {
                e.printStackTrace();
                reply = message("thrown", FAILED + e);
            }
            answer(out, reply);
        }
    }
}
